/**
 * The UDP listener: owns the socket(s), runs the receive loop, and hands each datagram to the
 * plain handler of `handler.ts`, sending back whatever it returns. It decides nothing about the
 * protocol. One bad packet, a throwing handler or a failed receive or send never ends the loop;
 * only `close()` does.
 *
 * Dual stack. Deno does not set `IPV6_V6ONLY` on a UDP socket, so whether one bound to `"::"` also
 * receives IPv4 (as `::ffff:a.b.c.d`) is the operating system's default: yes on Linux unless
 * `net.ipv6.bindv6only = 1`, no on Windows and the BSDs. Measured on Deno 2.9.6, Linux: with
 * `bindv6only = 0` an IPv4 client arrives as `::ffff:127.0.0.1` and binding `0.0.0.0` on the same
 * port then fails with `AddrInUse`; with `bindv6only = 1` the IPv4 datagram never arrives and the
 * second bind succeeds. So on `"::"` this module tries that second bind: if the port is taken the
 * first socket is dual stack already; if not, it serves IPv4 on the second socket too.
 *
 * @module
 */
import { messageOf } from "../protocol/error_message.ts";
import { MAX_REQUEST_BYTES } from "../protocol/udp_packet.ts";
import type { Logger } from "../runtime/logger.ts";
import type { AsyncUdpHandler } from "./handler.ts";

/** Options for `startUdpServer`. */
export interface UdpServerOptions {
  /** Address to bind; `"::"` serves both families (see the module doc). */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** A synchronous handler, or one over a shared store whose replies may come later. */
  handler: AsyncUdpHandler;
  /**
   * Let other processes bind the same port (Deno's `reuseAddress`). In Deno 2.9.6 that is
   * `SO_REUSEADDR` alone: the process that bound last receives every datagram, and another takes
   * over when it stops; the kernel does not spread datagrams over them. @default false
   */
  reuseAddress?: boolean;
  logger: Logger;
}

/** A running UDP listener. */
export interface UdpServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Every bound socket's address: two when `"::"` is not dual stack and IPv4 got its own. */
  readonly addrs: readonly Deno.NetAddr[];
  /** Stops receiving, waits for the loops to end and releases the sockets. */
  close(): Promise<void>;
}

/** Consecutive receive failures after which the loop pauses between attempts. */
const FAILURES_BEFORE_BACKOFF = 10;
/** Longest pause between receive attempts while they keep failing. */
const MAX_BACKOFF_MS = 1000;

/** Binds and starts serving. Throws if the address cannot be bound. */
export function startUdpServer(options: UdpServerOptions): UdpServer {
  const { handler, logger } = options;
  const primary = Deno.listenDatagram({
    transport: "udp",
    hostname: options.hostname,
    port: options.port,
    reuseAddress: options.reuseAddress ?? false,
  });
  const addr = primary.addr as Deno.NetAddr;
  const conns = [primary];
  if (options.hostname === "::") {
    const ipv4 = bindIpv4Too(addr.port, logger);
    if (ipv4 !== null) conns.push(ipv4);
  }
  let closed = false;
  /** Wakes every loop paused in a back-off, so `close()` never waits for a timer. */
  const wakers = new Set<() => void>();

  async function serve(conn: Deno.DatagramConn): Promise<void> {
    // One buffer per socket, reused: the handler is synchronous and copies what it keeps. One byte
    // more than the cap, so an oversized datagram shows as oversized rather than truncated.
    const buffer = new Uint8Array(MAX_REQUEST_BYTES + 1);
    let failures = 0;
    while (!closed) {
      let packet: Uint8Array;
      let remote: Deno.NetAddr;
      try {
        const [data, from] = await conn.receive(buffer);
        packet = data;
        remote = from as Deno.NetAddr;
        failures = 0;
      } catch (error) {
        if (closed) return;
        // Windows reports an ICMP "port unreachable" for an earlier send as a receive error; a
        // failure is not the end of the socket. Persistent failures are paced, not spun on.
        failures++;
        if (failures === 1 || failures % 1000 === 0) {
          logger.log("error", `udp receive failed (${failures} in a row): ${messageOf(error)}`);
        }
        if (failures >= FAILURES_BEFORE_BACKOFF) {
          await pause(Math.min(MAX_BACKOFF_MS, failures * 10), wakers);
        }
        continue;
      }
      let reply: Uint8Array | null | Promise<Uint8Array | null>;
      try {
        reply = handler(packet, remote);
      } catch (error) {
        // The handler catches its own errors; this is the last line, should one escape it.
        logger.log("error", `udp handler threw for ${remote.hostname}: ${messageOf(error)}`);
        continue;
      }
      if (reply instanceof Promise) {
        // A reply from a shared store is sent when it comes; the loop receives meanwhile, so
        // many requests are in flight to the store at once.
        reply.then((later) => {
          if (later !== null && !closed) send(conn, later, remote);
        }, (error) => {
          logger.log("error", `udp handler failed for ${remote.hostname}: ${messageOf(error)}`);
        });
        continue;
      }
      if (reply === null) continue;
      await send(conn, reply, remote);
    }
  }

  async function send(conn: Deno.DatagramConn, reply: Uint8Array, remote: Deno.NetAddr) {
    try {
      await conn.send(reply, remote);
    } catch (error) {
      if (closed) return;
      if (logger.debugEnabled) {
        logger.log("debug", `udp send to ${remote.hostname} failed: ${messageOf(error)}`);
      }
    }
  }

  const loops = conns.map(serve);
  return {
    addr,
    addrs: conns.map((conn) => conn.addr as Deno.NetAddr),
    async close() {
      if (closed) return;
      closed = true;
      for (const conn of conns) conn.close();
      for (const wake of wakers) wake();
      await Promise.all(loops);
    },
  };
}

/**
 * On a socket bound to `"::"`, IPv4 arrives only if the system is dual stack. Binding `0.0.0.0`
 * on the same port tells: `AddrInUse` means the IPv6 socket holds the IPv4 port too.
 */
function bindIpv4Too(port: number, logger: Logger): Deno.DatagramConn | null {
  try {
    return Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return null;
    logger.log("error", `udp: "::" is IPv6 only and 0.0.0.0:${port} failed: ${messageOf(error)}`);
    return null;
  }
}

/** Waits `ms`, or less if woken (by `close()`). */
function pause(ms: number, wakers: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wakers.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    wakers.add(done);
  });
}
