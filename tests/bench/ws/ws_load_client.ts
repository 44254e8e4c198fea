/**
 * The WebSocket load generator, one process (several may run side by side, each with its own
 * range of peers): opens sockets to a tracker's `ws://.../announce`, one WebTorrent peer per
 * socket, `torrents` swarms of peers spread round-robin, each announced `started` first.
 *
 * - `relay`: each socket then keeps one announce in flight, with `offers` offers each; an announce
 *   is done when its reply comes back. Prints, as JSON on stdout, the replies and the offers that
 *   arrived during the measured seconds (after a warm-up).
 * - `idle`: the sockets stay open and silent (answering pings); prints `ready` once every one
 *   joined, then holds them until stdin closes (the bench's signal to go).
 *
 * A raw RFC 6455 client over `Deno.connect`, not Deno's `WebSocket`: each announce is one frame
 * masked once in advance and written with one write on a no-delay socket, and replies are told
 * from offers by their length (an offer carries an SDP of ~500 characters, a reply none), so the
 * generator spends little per message. Deno's `WebSocket` client writes a large frame in parts,
 * and with Nagle's algorithm and delayed ACKs that held each 3 KB announce ~40 ms: the benchmark
 * then measured the client.
 *
 * ```sh
 * deno run -A tests/bench/ws/ws_load_client.ts URL relay|idle SOCKETS FIRST_PEER TORRENTS \
 *   [OFFERS] [WARMUP_S] [SECONDS]
 * ```
 *
 * @module
 */

const [url, mode, socketsText, firstPeerText, torrentsText, offersText, warmupText, secondsText] =
  Deno.args;
if (url === undefined || (mode !== "relay" && mode !== "idle")) {
  throw new Error("usage: URL relay|idle SOCKETS FIRST_PEER TORRENTS [OFFERS] [WARMUP] [SECONDS]");
}
const sockets = Number(socketsText ?? 100);
const firstPeer = Number(firstPeerText ?? 0);
const torrents = Number(torrentsText ?? 10);
const offerCount = Number(offersText ?? 5);
const warmupSeconds = Number(warmupText ?? 2);
const measuredSeconds = Number(secondsText ?? 5);
/** Sockets opening at once, so the server's accept queue is not flooded. */
const OPEN_BATCH = 200;
/** A text frame longer than this is a relayed offer; shorter, an announce reply. */
const OFFER_MIN_LENGTH = 300;
const target = new URL(url);

/** A 20-character binary string holding `n` in its last bytes, after a fixed prefix. */
function id20(prefix: string, n: number): string {
  let tail = "";
  for (let i = 0; i < 4; i++) tail = String.fromCharCode((n >>> (8 * i)) & 0xff) + tail;
  return (prefix + "\x00".repeat(16)).slice(0, 16) + tail;
}

/** An SDP about as long as a browser's data-channel offer (~500 characters). */
const SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
  "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
  "c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
  "a=ice-options:trickle\r\na=fingerprint:sha-256 " + "AB:".repeat(31) + "AB\r\n" +
  "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

const encoder = new TextEncoder();

/** One masked client frame (RFC 6455 section 5.2) of `opcode`, as one buffer. */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const extended = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
  const frame = new Uint8Array(2 + extended + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  if (extended === 0) frame[1] = 0x80 | payload.length;
  else if (extended === 2) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, payload.length);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(payload.length));
  }
  const at = 2 + extended;
  frame.set(mask, at);
  for (let i = 0; i < payload.length; i++) frame[at + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

let replies = 0;
let offersReceived = 0;
let errors = 0;
let running = mode === "relay";

interface Peer {
  connection: Deno.TcpConn;
  announce: Uint8Array;
}

/** Reads frames for ever; calls `onText(length)` per text frame, answers pings. */
async function readFrames(
  connection: Deno.TcpConn,
  leftover: Uint8Array,
  onText: (length: number) => void,
): Promise<void> {
  let buffer = new Uint8Array(256 * 1024);
  let filled = 0;
  buffer.set(leftover);
  filled = leftover.length;
  for (;;) {
    let at = 0;
    for (;;) {
      if (filled - at < 2) break;
      const opcode = buffer[at]! & 0x0f;
      let length = buffer[at + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (filled - at < 4) break;
        length = (buffer[at + 2]! << 8) | buffer[at + 3]!;
        header = 4;
      } else if (length === 127) {
        if (filled - at < 10) break;
        length = Number(new DataView(buffer.buffer).getBigUint64(at + 2));
        header = 10;
      }
      if (filled - at < header + length) break;
      if (opcode === 0x1) onText(length);
      else if (opcode === 0x9) {
        await connection.write(clientFrame(0xa, buffer.slice(at + header, at + header + length)));
      } else if (opcode === 0x8) return;
      at += header + length;
    }
    buffer.copyWithin(0, at, filled);
    filled -= at;
    if (filled === buffer.length) {
      const bigger = new Uint8Array(buffer.length * 2);
      bigger.set(buffer);
      buffer = bigger;
    }
    const read = await connection.read(buffer.subarray(filled)).catch(() => null);
    if (read === null) return;
    filled += read;
  }
}

async function open(index: number): Promise<Peer> {
  const peerNumber = firstPeer + index;
  const infoHash = id20("torrent", peerNumber % torrents);
  const peerId = id20("-WL0001-", peerNumber);
  const message = (offers: number, event?: string) =>
    clientFrame(
      0x1,
      encoder.encode(JSON.stringify({
        action: "announce",
        info_hash: infoHash,
        peer_id: peerId,
        ...(event === undefined ? {} : { event }),
        left: 1000,
        uploaded: 0,
        downloaded: 0,
        numwant: offers,
        offers: Array.from({ length: offers }, (_, i) => ({
          offer_id: id20(`o${i}`, peerNumber),
          offer: { type: "offer", sdp: SDP },
        })),
      })),
    );
  const connection = await Deno.connect({
    hostname: target.hostname,
    port: Number(target.port),
  });
  connection.setNoDelay(true);
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await connection.write(encoder.encode(
    `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  // Read the handshake reply; what follows its blank line is the first frames.
  let head = new Uint8Array(0);
  let end = -1;
  while (end === -1) {
    const chunk = new Uint8Array(4096);
    const read = await connection.read(chunk);
    if (read === null) throw new Error(`socket ${peerNumber} closed during the handshake`);
    head = new Uint8Array([...head, ...chunk.subarray(0, read)]);
    end = new TextDecoder().decode(head).indexOf("\r\n\r\n");
  }
  if (!new TextDecoder().decode(head.subarray(0, 12)).includes("101")) {
    throw new Error(`socket ${peerNumber}: no 101 in the handshake reply`);
  }
  const peer = { connection, announce: message(offerCount) };
  const joined = Promise.withResolvers<Peer>();
  let isJoined = false;
  readFrames(connection, head.subarray(end + 4), (length) => {
    if (length > OFFER_MIN_LENGTH) {
      offersReceived++;
      return;
    }
    if (!isJoined) {
      isJoined = true;
      joined.resolve(peer);
      return;
    }
    replies++;
    if (running) connection.write(peer.announce).catch(() => errors++);
  }).catch(() => errors++);
  await connection.write(message(0, "started"));
  return joined.promise;
}

/** One line on stdout, which the bench reads. */
function say(line: string): void {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
}

const peers: Peer[] = [];
for (let start = 0; start < sockets; start += OPEN_BATCH) {
  const batch = [];
  for (let i = start; i < Math.min(sockets, start + OPEN_BATCH); i++) batch.push(open(i));
  peers.push(...await Promise.all(batch));
}

if (mode === "relay") {
  for (const peer of peers) peer.connection.write(peer.announce).catch(() => errors++);
  await new Promise((resolve) => setTimeout(resolve, warmupSeconds * 1000));
  const before = { replies, offersReceived, at: performance.now() };
  say("measuring");
  await new Promise((resolve) => setTimeout(resolve, measuredSeconds * 1000));
  const after = { replies, offersReceived, at: performance.now() };
  running = false;
  say(JSON.stringify({
    replies: after.replies - before.replies,
    offers: after.offersReceived - before.offersReceived,
    seconds: (after.at - before.at) / 1000,
    errors,
  }));
} else {
  say("ready");
}
// Stay until the bench, having read what it needs, closes stdin.
for await (const _ of Deno.stdin.readable) {
  // Nothing is sent on stdin; its end is the signal.
}
for (const peer of peers) {
  try {
    peer.connection.close();
  } catch {
    // Closed by the server already.
  }
}
Deno.exit(0);
