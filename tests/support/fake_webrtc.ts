/**
 * A stand-in for the WebRTC API, enough for the npm `bittorrent-tracker` client (through
 * `simple-peer`) to make offers and answers, which is all a tracker sees of WebRTC. Deno has no
 * `RTCPeerConnection`, and the Node WebRTC packages need a native binary from outside the npm
 * registry. Descriptions carry a serial number so a test can tell which offer an answer is for;
 * no connection is ever made (the browser test does that with real WebRTC).
 *
 * @module
 */

let serial = 0;

/** A session description, as `new RTCSessionDescription(init)` makes it. */
class FakeSessionDescription {
  type: string;
  sdp: string;

  constructor(init: { type: string; sdp: string }) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
}

class FakeIceCandidate {
  candidate: string;

  constructor(init: { candidate?: string }) {
    this.candidate = init.candidate ?? "";
  }
}

/** A data channel that never opens. */
class FakeDataChannel {
  readonly label: string;
  readyState = "connecting";
  bufferedAmount = 0;
  binaryType = "arraybuffer";
  onmessage: unknown = null;
  onopen: unknown = null;
  onclose: unknown = null;
  onerror: unknown = null;
  onbufferedamountlow: unknown = null;

  constructor(label: string) {
    this.label = label;
  }

  close(): void {
    this.readyState = "closed";
  }
}

/** A peer connection that makes descriptions and finishes ICE gathering at once, with nothing. */
class FakePeerConnection {
  localDescription: FakeSessionDescription | null = null;
  remoteDescription: FakeSessionDescription | null = null;
  signalingState = "stable";
  iceConnectionState = "new";
  iceGatheringState = "new";
  connectionState = "new";
  onicecandidate: ((event: { candidate: null }) => void) | null = null;
  oniceconnectionstatechange: unknown = null;
  onicegatheringstatechange: unknown = null;
  onconnectionstatechange: unknown = null;
  onsignalingstatechange: unknown = null;
  ondatachannel: unknown = null;
  ontrack: unknown = null;
  #closed = false;

  createDataChannel(label: string): FakeDataChannel {
    return new FakeDataChannel(label);
  }

  createOffer(): Promise<FakeSessionDescription> {
    return Promise.resolve(description("offer"));
  }

  createAnswer(): Promise<FakeSessionDescription> {
    return Promise.resolve(description("answer"));
  }

  setLocalDescription(value: FakeSessionDescription): Promise<void> {
    this.localDescription = value;
    // Gathering ends with the null candidate, as a real connection's does, a task later.
    setTimeout(() => {
      if (this.#closed) return;
      this.iceGatheringState = "complete";
      this.onicecandidate?.({ candidate: null });
    }, 0);
    return Promise.resolve();
  }

  setRemoteDescription(value: FakeSessionDescription): Promise<void> {
    this.remoteDescription = value;
    return Promise.resolve();
  }

  addIceCandidate(): Promise<void> {
    return Promise.resolve();
  }

  getStats(): Promise<unknown[]> {
    return Promise.resolve([]);
  }

  close(): void {
    this.#closed = true;
  }
}

function description(type: "offer" | "answer"): FakeSessionDescription {
  serial++;
  return new FakeSessionDescription({ type, sdp: `v=0\r\no=- ${serial} 0 IN IP4 127.0.0.1\r\n` });
}

/** What the client's `wrtc` option takes. */
export const FAKE_WEBRTC = {
  RTCPeerConnection: FakePeerConnection,
  RTCSessionDescription: FakeSessionDescription,
  RTCIceCandidate: FakeIceCandidate,
};
