import assert from "node:assert/strict";
import type { AnnounceInput } from "../src/core/announce_input.ts";
import { hashKey } from "../src/core/refusals.ts";
import {
  type AnnounceLimits,
  packAnnounce,
  PACKED_FIXED_SIZE,
  PACKED_HAS_KEY,
  PACKED_OPEN,
  PACKED_SEEDER,
  PACKED_UDP,
  PACKED_WANT_IDS,
} from "../src/redis/announce_arguments.ts";

/** 20 bytes with every high bit set somewhere: latin1 must carry them unchanged. */
const HASH = "\xff\x00\x80\x7f" + "h".repeat(15) + "\xe9";
const PEER = "-qB4650-" + "\x01\x02\xfe\xfd" + "p".repeat(8);

function input(overrides: Partial<AnnounceInput["request"]> = {}): AnnounceInput {
  return {
    request: {
      infoHash: HASH,
      peerId: PEER,
      port: 51413,
      uploaded: 0,
      downloaded: 0,
      left: 100,
      event: "none",
      numwant: 50,
      compact: true,
      noPeerId: false,
      key: null,
      claimedIp: null,
      claimedIpv4: null,
      claimedIpv6: null,
      ...overrides,
    },
    address: new Uint8Array([192, 0, 2, 7]),
    connectionAddress: null,
    userAgent: "",
    wantPeerIds: false,
  };
}

const LIMITS: AnnounceLimits = {
  now: 1_765_000_000,
  cutoff: 1_764_998_200,
  open: true,
  maxTorrents: 100_000,
  maxPeers: 50_000,
  seed: 123_456_789,
};

Deno.test("packAnnounce() puts every field at its offset, hashes and ids byte for byte", () => {
  const packed = packAnnounce(input(), LIMITS);
  assert.equal(packed.length, PACKED_FIXED_SIZE + 6);
  assert.equal(packed[0], PACKED_OPEN);
  assert.equal(String.fromCharCode(packed[1]), "n");
  assert.deepEqual(
    [2, 6, 10, 14, 18, 22, 26].map((at) => packed.readUInt32BE(at)),
    [1_765_000_000, 1_764_998_200, 50, 100_000, 50_000, 123_456_789, 0],
  );
  assert.equal(packed.toString("latin1", 30, 50), HASH);
  assert.equal(packed.toString("latin1", 50, 70), PEER);
  assert.deepEqual([...packed.subarray(70)], [192, 0, 2, 7, 51413 >> 8, 51413 & 255]);
});

Deno.test("packAnnounce() flags a seeder over UDP with a key and peer ids, and codes each event", () => {
  const seeder = input({ left: 0, key: "a1b2c3", event: "completed" });
  seeder.transport = "udp";
  seeder.wantPeerIds = true;
  const packed = packAnnounce(seeder, { ...LIMITS, open: false });
  assert.equal(packed[0], PACKED_SEEDER | PACKED_UDP | PACKED_WANT_IDS | PACKED_HAS_KEY);
  assert.equal(packed.readUInt32BE(26), hashKey("a1b2c3") >>> 0);
  const codes = (["none", "started", "completed", "stopped", "paused"] as const)
    .map((event) => String.fromCharCode(packAnnounce(input({ event }), LIMITS)[1]));
  assert.deepEqual(codes, ["n", "s", "c", "x", "p"]);
});

Deno.test("packAnnounce() carries an IPv6 endpoint and clamps a cutoff before 0 to 0", () => {
  const v6 = input({ port: 6881 });
  v6.address = new Uint8Array(16).fill(0x20);
  const packed = packAnnounce(v6, { ...LIMITS, now: 30, cutoff: -1770 });
  assert.equal(packed.length, PACKED_FIXED_SIZE + 18);
  assert.equal(packed.readUInt32BE(6), 0);
  assert.deepEqual([...packed.subarray(70, 86)], new Array(16).fill(0x20));
  assert.equal(packed.readUInt16BE(86), 6881);
});
