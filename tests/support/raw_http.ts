/**
 * A raw HTTP/1.1 keep-alive connection for tests that must know which connection a request goes
 * over (fetch pools connections out of sight): one request at a time, reply body as text.
 *
 * @module
 */

/** One open connection (TCP or TLS). */
export class RawHttpConnection {
  readonly #conn: Deno.Conn;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Sends `GET <path>` and returns the reply's status line and body. */
  async get(path: string): Promise<{ status: string; body: string }> {
    const request = `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    await this.#conn.write(new TextEncoder().encode(request));
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    // One reply: headers, then exactly content-length bytes; a bounded number of reads.
    for (let reads = 0; reads < 1000; reads++) {
      const n = await this.#conn.read(buffer);
      if (n === null) throw new Error(`connection closed after ${JSON.stringify(text)}`);
      text += new TextDecoder("latin1").decode(buffer.subarray(0, n));
      const end = text.indexOf("\r\n\r\n");
      const length = text.match(/content-length: *(\d+)/i);
      if (end !== -1 && length !== null && text.length >= end + 4 + Number(length[1])) {
        return { status: text.slice(0, text.indexOf("\r\n")), body: text.slice(end + 4) };
      }
    }
    throw new Error("the reply never ended");
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
