/**
 * Debian's `redis-server` for tests and benchmarks: started on a free loopback port in a
 * temporary directory (no snapshots, no append-only file), waited for until it answers, and
 * stopped (and its directory removed) after. It can be stopped and started again on the same
 * port, for the fault tests. The process is an `AsyncDisposable`: hold it with `await using`.
 *
 * @module
 */

/** How long a start may take before the test fails. */
const START_TIMEOUT_MS = 10_000;

/** How to start a redis-server. */
export interface RedisServerOptions {
  /**
   * Every write is in the append-only file before Redis acknowledges it (`appendfsync always`),
   * so what it acknowledged survives a kill and restart. @default false
   */
  persistent?: boolean;
  /** Clients must authenticate with this password (`requirepass`). @default none */
  password?: string;
}

/** A running (or stopped, to be restarted) redis-server. */
export class RedisServer implements AsyncDisposable {
  readonly port: number;
  readonly dir: string;
  readonly #persistent: boolean;
  readonly #password: string | null;
  #child: Deno.ChildProcess | null = null;

  private constructor(port: number, dir: string, options: RedisServerOptions) {
    this.port = port;
    this.dir = dir;
    this.#persistent = options.persistent ?? false;
    this.#password = options.password ?? null;
  }

  /** Starts a redis-server on a free port; the caller must `stop()` it (or `await using`). */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "nobrake-redis-" });
    const server = new RedisServer(freePort(), dir, options);
    await server.restart();
    return server;
  }

  /** `redis://127.0.0.1:PORT/DB`, with the password when the server has one. */
  url(db = 0): string {
    const auth = this.#password === null ? "" : `:${encodeURIComponent(this.#password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}/${db}`;
  }

  /** The process id, for CPU readings in benchmarks. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Starts the server (again) on its port and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.#child !== null) throw new Error("redis-server is already running");
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        ...(this.#persistent ? ["yes", "--appendfsync", "always"] : ["no"]),
        "--dir",
        this.dir,
        "--databases",
        "64",
        ...(this.#password === null ? [] : ["--requirepass", this.#password]),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!await this.#answers()) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the server (SIGKILL: the fault tests want a hard stop; nothing is kept on disk). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    this.#child = null;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  /**
   * Kills the server and removes its directory without waiting: for an `unload` listener, where
   * a test file that shares one server for all its tests stops it.
   */
  stopNow(): void {
    try {
      this.#child?.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    this.#child = null;
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch {
      // Already removed.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** One PING over a raw connection: true when the server answers. */
  async #answers(): Promise<boolean> {
    let conn: Deno.TcpConn | null = null;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(64);
      const read = await conn.read(buffer);
      // A server with a password answers NOAUTH: it is up all the same.
      const reply = read === null ? "" : new TextDecoder().decode(buffer.subarray(0, read));
      return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
    } catch {
      return false;
    } finally {
      conn?.close();
    }
  }
}

/** A TCP port free on loopback right now (bound, read and released). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
