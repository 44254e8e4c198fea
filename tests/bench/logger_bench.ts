/**
 * What a `client` log line per announce (`log_announces`) costs: building the details, formatting
 * the line and appending it to the buffered file logger, against not logging at all.
 *
 * Run with `deno bench --allow-all bench/logger_bench.ts`. Lines go to a temporary file, so the
 * figures include the amortised cost of the real 64 KiB writes.
 *
 * @module
 */
import { join } from "node:path";
import { createLogger, formatLogLine } from "../../src/runtime/logger.ts";

const dir = Deno.makeTempDirSync();
const logger = createLogger({ path: join(dir, "bench.log") });
globalThis.addEventListener("unload", () => {
  logger.close();
  Deno.removeSync(dir, { recursive: true });
});

// Realistic details, as the original wrote them: address, 40 hex digits of peer id, event.
const PEERS = Array.from({ length: 1024 }, (_, i) => ({
  ip: `192.0.${i >> 8}.${i & 255}`,
  peerIdHex: `2D4E42303130302D${i.toString(16).toUpperCase().padStart(24, "0")}`,
  event: i % 8 === 0 ? "started" : "no_event",
}));
let next = 0;
function nextPeer() {
  next = (next + 1) & 1023;
  return PEERS[next];
}

// A `let`, so the compiler cannot drop the branch the way it could for a constant.
let logAnnounces = false;

Deno.bench("log_announces off (baseline)", { group: "client line", baseline: true }, () => {
  const peer = nextPeer();
  if (logAnnounces) logger.log("client", `${peer.ip} ${peer.peerIdHex} ${peer.event}`);
});

Deno.bench("formatLogLine() only", { group: "client line" }, () => {
  const peer = nextPeer();
  formatLogLine(Date.now(), "client", `${peer.ip} ${peer.peerIdHex} ${peer.event}`);
});

Deno.bench("log() to a buffered file", { group: "client line" }, () => {
  logAnnounces = true;
  const peer = nextPeer();
  if (logAnnounces) logger.log("client", `${peer.ip} ${peer.peerIdHex} ${peer.event}`);
});
