/**
 * The HTTP(S) listener: serves a `(Request, info) → Response` handler over plain HTTP with
 * `Deno.serve`, or over HTTPS with `node:https`, and stops with a bounded wait.
 *
 * Why two servers: a renewed certificate must be taken up without dropping connections.
 * `Deno.serve` cannot change its certificate. The way around it, a second server on the same port
 * (`reusePort`) and a graceful shutdown of the first, fails connections in Deno 2.9.6: the old
 * server closes every connection it accepted whose request had not arrived yet.
 * `node:https` swaps the certificate in place (`setSecureContext`): open connections keep theirs
 * and new handshakes get the new one. It is slower, which is why plain HTTP stays on `Deno.serve`.
 * `tests/bench/tls_reload_compare.ts` measures both; the figures are in `docs/design.md`.
 *
 * @module
 */
import { messageOf } from "../protocol/error_message.ts";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";

/** What the handler is told about the connection (a subset of `Deno.ServeHandlerInfo`). */
export interface ListenerConnectionInfo {
  remoteAddr: { hostname: string };
}

/** A request handler, as `createHttpHandler` returns. */
export type ListenerHandler = (
  request: Request,
  info: ListenerConnectionInfo,
) => Response | Promise<Response>;

/** Certificate chain and key, PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

/** Options for `listenHttp`. */
export interface ListenOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Serve HTTPS with this certificate; `null` serves plain HTTP. */
  tls: PemPair | null;
  handler: ListenerHandler;
  /**
   * Share the port with other processes (`SO_REUSEPORT`: Linux spreads connections over them).
   * Plain HTTP only. @default false
   */
  reusePort?: boolean;
  /** Told about a request the HTTPS adapter could not hand to the handler. @default ignore */
  onError?: (error: unknown) => void;
  /**
   * Told, in one line, when the listener stops accepting connections (out of file descriptors)
   * and when it listens again. @default ignore
   */
  onAcceptTrouble?: (message: string) => void;
  /**
   * Takes an HTTPS upgrade request (a `wss://` WebSocket) with its raw socket. Plain HTTP upgrades
   * go to `handler` (`Deno.upgradeWebSocket` takes them there). @default the socket is closed
   */
  onUpgrade?: (request: IncomingMessage, socket: Duplex, head: Uint8Array) => void;
}

/** A listening server. */
export interface HttpListener {
  /** The bound address (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** `"https"` when serving TLS. */
  readonly scheme: "http" | "https";
  /** Uses a new certificate for new handshakes; open connections keep theirs. HTTPS only. */
  setCertificate(pem: PemPair): void;
  /**
   * Stops accepting, closes idle connections and lets requests in flight finish, waiting at most
   * `timeoutMs`; then, over HTTPS, closes what is left. Resolves to whether everything finished
   * in time.
   */
  shutdown(timeoutMs: number): Promise<boolean>;
}

/** Starts listening. Throws if the address cannot be bound. */
export async function listenHttp(options: ListenOptions): Promise<HttpListener> {
  return options.tls === null ? listenPlain(options) : await listenTls(options, options.tls);
}

/** First wait before listening again after the accept loop failed; doubled up to the maximum. */
const RELISTEN_FIRST_MS = 100;
const RELISTEN_MAX_MS = 2_000;

/**
 * Plain HTTP over `Deno.serve`. When accepting fails (the process is out of file descriptors:
 * every one held by an open connection), Deno 2.9.6 ends the server's accept loop and rejects
 * `finished`; unhandled, that rejection ended the whole process. Here it is reported and the
 * port is listened on again, after a wait that doubles while it keeps failing, so the tracker
 * serves again once connections close. Connections accepted before go on being served.
 */
function listenPlain(options: ListenOptions): HttpListener {
  const report = options.onAcceptTrouble ?? (() => {});
  const serve = (port: number) =>
    Deno.serve({
      hostname: options.hostname,
      port,
      reusePort: options.reusePort ?? false,
      onListen: () => {},
    }, options.handler);
  // Every server started, the failed ones too: each still serves the connections it had.
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  const first = serve(options.port);
  const addr = first.addr;
  let stopping = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const relisten = (delayMs: number) => {
    retry = setTimeout(() => {
      retry = undefined;
      if (stopping) return;
      try {
        watch(serve(addr.port));
        report(`listening again on port ${addr.port}`);
      } catch {
        relisten(Math.min(delayMs * 2, RELISTEN_MAX_MS));
      }
    }, delayMs);
  };
  const watch = (server: Deno.HttpServer<Deno.NetAddr>) => {
    servers.push(server);
    server.finished.catch((error) => {
      if (stopping) return;
      report(`stopped accepting connections: ${messageOf(error)}; listening again when it can`);
      relisten(RELISTEN_FIRST_MS);
    });
  };
  watch(first);
  return {
    addr,
    scheme: "http",
    setCertificate() {
      throw new Error("this listener serves plain HTTP");
    },
    // Deno.serve has no forced close once a graceful one has begun (aborting then throws), so
    // past the deadline the caller goes on and the process exit closes what is left. A server
    // whose accept loop failed still shuts down the connections it had.
    shutdown: (timeoutMs) => {
      stopping = true;
      clearTimeout(retry);
      const all = servers.map((server) => server.shutdown().catch(() => {}));
      return withDeadline(Promise.all(all).then(() => {}), timeoutMs);
    },
  };
}

/** How often HTTPS checks that it still accepts connections, and how long an accept may take. */
const ACCEPT_CHECK_INTERVAL_MS = 5_000;
const ACCEPT_CHECK_TIMEOUT_MS = 2_000;

/**
 * HTTPS over `node:https`. When accepting fails (the process is out of file descriptors), the
 * `node:https` server of Deno 2.9.6 stops accepting for good, with no error and no event. So every
 * few seconds the listener connects to itself: if no connection arrives within two seconds, it
 * stops listening on the dead server (whose open connections go on being served) and listens again
 * with a new one. `tests/fd_limit_test.ts` runs into the limit on purpose.
 */
async function listenTls(options: ListenOptions, first: PemPair): Promise<HttpListener> {
  const onError = options.onError ?? (() => {});
  const report = options.onAcceptTrouble ?? (() => {});
  let pem = first;
  // Every TCP connection, also those still in the TLS handshake, which the HTTP layer does not
  // know of yet and `closeAllConnections` would leave open.
  const sockets = new Set<Socket>();
  let lastAcceptAt = 0;
  const listen = async (port: number): Promise<Server> => {
    const server = createServer({ cert: pem.cert, key: pem.key }, (req, res) => {
      serveNodeRequest(req, res, options.handler).catch((error) => {
        onError(error);
        res.destroy();
      });
    });
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Uint8Array) => {
      if (options.onUpgrade === undefined) socket.destroy();
      else options.onUpgrade(request, socket, head);
    });
    server.on("connection", (socket: Socket) => {
      lastAcceptAt = performance.now();
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: options.hostname, port, ipv6Only: false }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return server;
  };
  // The server listening now (at most one; none while listening again fails), and the ones that
  // stopped accepting: closed, they still serve the connections they had until those end.
  const servers = [await listen(options.port)];
  const retired: { server: Server; closed: Promise<void> }[] = [];
  const bound = servers[0].address() as AddressInfo;
  let stopping = false;

  /** Whether a connection of our own is accepted in time; `null` when we cannot even try. */
  const accepts = async (): Promise<boolean | null> => {
    const since = performance.now();
    let probe: Deno.Conn;
    try {
      probe = await Deno.connect({ hostname: loopbackFor(bound.address), port: bound.port });
    } catch {
      return null;
    }
    try {
      for (let waited = 0; waited < ACCEPT_CHECK_TIMEOUT_MS; waited += 50) {
        if (lastAcceptAt >= since) return true;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return lastAcceptAt >= since;
    } finally {
      probe.close();
    }
  };
  const check = async () => {
    try {
      if (servers.length > 0) {
        if (await accepts() !== false || stopping) return;
        report(`stopped accepting connections on port ${bound.port}; listening again`);
        retired.push(closeServer(servers.pop()!));
      }
      const server = await listen(bound.port);
      // A shutdown that began meanwhile has closed the others already.
      if (stopping) server.close();
      else servers.push(server);
      report(`listening again on port ${bound.port}`);
    } catch (error) {
      report(`could not listen again on port ${bound.port} yet: ${messageOf(error)}`);
    }
  };
  // The check under way, if any: one at a time, and a shutdown waits for it.
  let checking: Promise<void> | null = null;
  const watchdog = setInterval(() => {
    if (checking !== null || stopping) return;
    checking = check().finally(() => checking = null);
  }, ACCEPT_CHECK_INTERVAL_MS);
  Deno.unrefTimer(watchdog);

  return {
    addr: { transport: "tcp", hostname: bound.address, port: bound.port },
    scheme: "https",
    setCertificate(next) {
      pem = next;
      for (const server of servers) server.setSecureContext({ cert: next.cert, key: next.key });
    },
    async shutdown(timeoutMs) {
      stopping = true;
      clearInterval(watchdog);
      await checking;
      const all = [...retired, ...servers.map(closeServer)];
      const closed = Promise.all(all.map(({ closed }) => closed)).then(() => {});
      // Connections that finish their request become idle; close them as they do.
      const closeIdle = () => all.forEach(({ server }) => server.closeIdleConnections());
      closeIdle();
      const sweeper = setInterval(closeIdle, 50);
      try {
        const inTime = await withDeadline(closed, timeoutMs);
        if (!inTime) {
          all.forEach(({ server }) => server.closeAllConnections());
          for (const socket of sockets) socket.destroy();
          await closed;
        }
        return inTime;
      } finally {
        clearInterval(sweeper);
      }
    },
  };
}

/** Stops `server` listening; `closed` settles once its last connection has ended. */
function closeServer(server: Server): { server: Server; closed: Promise<void> } {
  return { server, closed: new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The address to reach a listener bound to `address` from the same host. */
function loopbackFor(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::" || address === "::0") return "::1";
  return address;
}

/** Only a plain host (name, IPv4, bracketed IPv6, optional port) is copied into the URL. */
const HOST_PATTERN = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** Hands one `node:http` request to a fetch-style handler and writes its response. */
async function serveNodeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  handler: ListenerHandler,
): Promise<void> {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch { /* a header Headers refuses is one the tracker does not read */ }
  }
  const host = req.headers.host !== undefined && HOST_PATTERN.test(req.headers.host)
    ? req.headers.host
    : "localhost";
  const target = req.url !== undefined && req.url.startsWith("/") ? req.url : "/";
  let request: Request;
  try {
    request = new Request(`https://${host}${target}`, { method: req.method, headers });
  } catch {
    // A method or target `Request` refuses (CONNECT, TRACE): the client's fault, not logged.
    res.writeHead(400, { "content-type": "text/plain" });
    res.end("bad request\n");
    return;
  }
  const response = await handler(request, {
    remoteAddr: { hostname: req.socket.remoteAddress ?? "" },
  });
  const body = new Uint8Array(await response.arrayBuffer());
  const outHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => outHeaders[name] = value);
  outHeaders["content-length"] = String(body.length);
  res.writeHead(response.status, outHeaders);
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Whether `promise` settled within `timeoutMs`. */
async function withDeadline(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<false>((resolve) =>
    timer = setTimeout(() => resolve(false), timeoutMs)
  );
  try {
    return await Promise.race([promise.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
