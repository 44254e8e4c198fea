import assert from "node:assert/strict";
import {
  ClientFrameReader,
  closePayload,
  encodeServerFrame,
  FrameError,
  OPCODE,
  websocketAccept,
} from "../src/protocol/ws_frame.ts";
import { maskedTextFrame } from "./support/ws_client.ts";

/** A masked client frame with any FIN, opcode and length (extended lengths too). */
function clientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const mask = [9, 8, 7, 6];
  const extended = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
  const frame = new Uint8Array(2 + extended + 4 + payload.length);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (extended === 0) frame[1] = 0x80 | payload.length;
  else if (extended === 2) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, payload.length);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(payload.length));
  }
  frame.set(mask, 2 + extended);
  payload.forEach((byte, i) => frame[2 + extended + 4 + i] = byte ^ mask[i % 4]!);
  return frame;
}

const text = (value: string) => new TextEncoder().encode(value);

function refused(run: () => unknown, code: number, reason: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof FrameError);
    assert.equal(error.code, code);
    assert.match(error.message, reason);
    return true;
  });
}

Deno.test("websocketAccept() gives RFC 6455's example value", () => {
  assert.equal(websocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("encodeServerFrame() writes the three length forms, unmasked", () => {
  for (const length of [0, 125, 126, 65535, 65536]) {
    const frame = encodeServerFrame(OPCODE.text, new Uint8Array(length).fill(0x61));
    assert.equal(frame[0], 0x81);
    const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    assert.equal(frame.length, header + length);
    assert.equal(frame[1]! & 0x80, 0);
  }
  assert.deepEqual([...closePayload(1009, "big")], [0x03, 0xf1, 0x62, 0x69, 0x67]);
});

Deno.test("ClientFrameReader reads frames split anywhere and several in one chunk", () => {
  const reader = new ClientFrameReader(1 << 16);
  const long = "x".repeat(300);
  const bytes = new Uint8Array([
    ...maskedTextFrame("hello"),
    ...clientFrame(OPCODE.text, text(long)),
    ...clientFrame(OPCODE.ping, text("p")),
  ]);
  const frames = [];
  for (let i = 0; i < bytes.length; i += 7) frames.push(...reader.push(bytes.subarray(i, i + 7)));
  assert.deepEqual(
    frames.map((f) => [f.opcode, new TextDecoder().decode(f.payload)]),
    [[OPCODE.text, "hello"], [OPCODE.text, long], [OPCODE.ping, "p"]],
  );
});

Deno.test("ClientFrameReader joins a fragmented message, with a ping between fragments", () => {
  const reader = new ClientFrameReader(1 << 16);
  const frames = reader.push(
    new Uint8Array([
      ...clientFrame(OPCODE.text, text("ab"), false),
      ...clientFrame(OPCODE.ping, new Uint8Array(0)),
      ...clientFrame(OPCODE.continuation, text("cd"), false),
      ...clientFrame(OPCODE.continuation, text("ef")),
    ]),
  );
  assert.deepEqual(
    frames.map((f) => [f.opcode, new TextDecoder().decode(f.payload)]),
    [[OPCODE.ping, ""], [OPCODE.text, "abcdef"]],
  );
});

Deno.test("ClientFrameReader refuses an oversized message from its header, before its payload", () => {
  const reader = new ClientFrameReader(1000);
  const header = clientFrame(OPCODE.text, new Uint8Array(1001)).subarray(0, 8);
  refused(() => reader.push(header), 1009, /longer than 1000/);
  const fragments = new ClientFrameReader(1000);
  fragments.push(clientFrame(OPCODE.text, new Uint8Array(600), false));
  refused(
    () => fragments.push(clientFrame(OPCODE.continuation, new Uint8Array(600))),
    1009,
    /longer/,
  );
  const huge = new ClientFrameReader(1000);
  const giant = new Uint8Array([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  refused(() => huge.push(giant), 1009, /longer/);
});

Deno.test("ClientFrameReader refuses unmasked, reserved-bit, long control and stray frames", () => {
  const unmasked = encodeServerFrame(OPCODE.text, text("x"));
  refused(() => new ClientFrameReader(100).push(unmasked), 1002, /masked/);
  const reserved = maskedTextFrame("x");
  reserved[0] = reserved[0]! | 0x40;
  refused(() => new ClientFrameReader(100).push(reserved), 1002, /reserved/);
  refused(
    () => new ClientFrameReader(1000).push(clientFrame(OPCODE.ping, new Uint8Array(126))),
    1002,
    /control/,
  );
  refused(
    () => new ClientFrameReader(100).push(clientFrame(OPCODE.continuation, text("x"))),
    1002,
    /continuation/,
  );
  refused(() => new ClientFrameReader(100).push(clientFrame(0x3, text("x"))), 1002, /opcode 3/);
});
