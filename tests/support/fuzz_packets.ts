/**
 * UDP datagrams for the fuzz tests (`tests/fuzz_test.ts`): BEP 15 connects, announces (with BEP 41
 * option chains, URL data with passkey-like paths, odd events, ports, counters and `num_want`) and
 * scrapes, under a given connection id or a random one, then often mutated. Built with the test
 * client's encoders (`udp_tracker_client.ts`), written apart from the tracker's parser.
 *
 * @module
 */
import { type Fuzz, mutateBytes } from "./fuzz_inputs.ts";
import {
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  urlDataOptions,
} from "./udp_tracker_client.ts";

/** A random BEP 41 option chain: URL data, NOPs, unknown types, and sometimes no end marker. */
function randomOptions(fuzz: Fuzz): Uint8Array {
  if (fuzz.chance(0.4)) return new Uint8Array(0);
  if (fuzz.chance(0.5)) {
    const path = fuzz.pick(["/announce", "/announce/k3y", "/announce?passkey=k3y", "/x?%zz"]);
    return urlDataOptions(new TextEncoder().encode(path.repeat(1 + fuzz.int(fuzz.int(40) + 1))));
  }
  const parts: number[] = [];
  for (let n = fuzz.int(6); n > 0; n--) {
    const type = fuzz.pick([0, 1, 2, 3, 255]);
    parts.push(type);
    if (type > 1) {
      const length = fuzz.int(256);
      parts.push(length, ...fuzz.bytes(fuzz.chance(0.8) ? length : fuzz.int(length + 1)));
    }
  }
  return Uint8Array.from(parts);
}

/** A datagram; `connectionId` is the valid id to use most of the time, or `null` for none. */
export function randomUdpPacket(fuzz: Fuzz, connectionId: bigint | null): Uint8Array {
  const id = connectionId !== null && fuzz.chance(0.9)
    ? connectionId
    : new DataView(fuzz.bytes(8).buffer).getBigUint64(0);
  const transactionId = fuzz.int(2 ** 32);
  let packet: Uint8Array;
  const kind = fuzz.int(10);
  if (kind === 0) packet = encodeConnectRequest(transactionId);
  else if (kind <= 6) {
    const counter = () => BigInt(fuzz.int(2 ** 31)) * BigInt(fuzz.pick([0, 1, 2 ** 31, 2 ** 32]));
    packet = encodeAnnounceRequest({
      connectionId: id,
      transactionId,
      infoHash: fuzz.chance(0.7) ? new Uint8Array(20).fill(fuzz.int(8)) : fuzz.bytes(20),
      peerId: fuzz.bytes(20),
      downloaded: counter(),
      left: fuzz.chance(0.1) ? -1n : counter(),
      uploaded: counter(),
      event: fuzz.chance(0.9) ? fuzz.int(4) : fuzz.int(2 ** 32),
      ip: fuzz.chance(0.7) ? new Uint8Array(4) : fuzz.bytes(4),
      key: fuzz.chance(0.5) ? 0 : fuzz.int(2 ** 32),
      numwant: fuzz.pick([-1, 0, 5, 200, 2 ** 31 - 1, -(2 ** 31)]),
      port: fuzz.chance(0.95) ? fuzz.int(65536) : 0,
      options: randomOptions(fuzz),
    });
  } else {
    const hashes = Array.from({ length: fuzz.int(80) }, () => fuzz.bytes(20));
    packet = encodeScrapeRequest(id, transactionId, hashes);
  }
  return fuzz.chance(0.3) ? mutateBytes(fuzz, packet) : packet;
}
