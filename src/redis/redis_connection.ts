/**
 * One connection to Redis for the swarm store, through npm `redis` (node-redis; chosen over
 * `ioredis` by `tests/bench/redis_clients.ts`): the scripts' library loaded with `FUNCTION LOAD`
 * and run with `FCALL`, loaded again when Redis answers that a function is not there (a restarted
 * Redis without a saved dataset has forgotten it); replies as bytes.
 *
 * Faults: the client reconnects by itself with a growing back-off; while Redis is away a call
 * fails at once (no offline queue, so no request waits for a Redis that may not come back), and a
 * call Redis does not answer within the timeout fails too. One log line when Redis goes and one
 * when it is back, never one per request; every failed call is counted (`errors`, for /metrics).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createClient, RESP_TYPES } from "redis";
import { messageOf, oneLineMessageOf } from "../protocol/error_message.ts";
import type { Logger } from "../runtime/logger.ts";
import type { ScriptLibrary, ScriptName } from "./lua_library.ts";

/** Milliseconds a call may wait for Redis before it fails. */
const CALL_TIMEOUT_MS = 2_000;
/** Longest wait between reconnection attempts. */
const MAX_BACKOFF_MS = 2_000;

/** An argument of a script call: bytes or text. */
export type ScriptArgument = Buffer | string;

/** A reply value as scripts return it: numbers, byte strings (as `Buffer`) and arrays of them. */
export type ScriptReply = number | Buffer | null | ScriptReply[];

/** Thrown for any failed call: Redis away, slow, or refusing. The store turns it into a refusal. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** Options for `RedisConnection.open`. */
export interface RedisConnectionOptions {
  /** `redis://[:password@]host:port/db` or `rediss://…`. */
  url: string;
  logger: Logger;
  /** The scripts this connection runs. */
  library: ScriptLibrary;
  /** Milliseconds a call may take. @default 2000 */
  callTimeoutMs?: number;
}

/** A connection that runs named scripts. */
export class RedisConnection {
  readonly #client;
  /** `#client` with the call timeout: what scripts run through. */
  readonly #timed;
  readonly #logger: Logger;
  readonly #url: string;
  readonly #library: ScriptLibrary;
  /** Whether the library was loaded once: before that, failing to connect ends `open`. */
  #loaded = false;
  readonly #callOptions: { timeout: number; rejectInFlight: boolean };
  #up = false;
  #closed = false;
  /** Calls that failed since start. */
  errors = 0;

  private constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger;
    this.#url = redactUrl(options.url);
    this.#library = options.library;
    this.#callOptions = { timeout: options.callTimeoutMs ?? CALL_TIMEOUT_MS, rejectInFlight: true };
    const base = createClient({
      url: options.url,
      disableOfflineQueue: true,
      // Redis Enterprise maintenance notices: not used, and their setup reads environment variables.
      maintNotifications: "disabled",
      socket: {
        connectTimeout: this.#callOptions.timeout,
        // Before the first connection a failure ends `open` (the tracker does not start without
        // Redis); after it, the client retries with a growing wait and the tracker rides it out.
        reconnectStrategy: (retries: number, cause: Error) =>
          !this.#loaded ? cause : Math.min(50 * 2 ** Math.min(retries, 6), MAX_BACKOFF_MS),
      },
    });
    // Without a listener an "error" event would throw and end the process.
    base.on("error", (error: unknown) => this.#wentAway(error));
    base.on("ready", () => this.#cameBack());
    this.#client = base.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    // Made once: `withCommandOptions` builds a new client view each time it is called.
    this.#timed = this.#client.withCommandOptions({
      ...this.#callOptions,
      typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
    });
  }

  /**
   * Connects and loads the scripts. Fails when Redis cannot be reached now: a tracker told to use
   * Redis does not start without it (once running, it rides out outages).
   */
  static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
    const connection = new RedisConnection(options);
    try {
      await connection.#client.connect();
      await connection.#loadLibrary();
    } catch (error) {
      await connection.close();
      throw new Error(`cannot reach Redis at ${connection.#url}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return connection;
  }

  /** Runs a named script with its arguments; throws `StoreUnavailableError` when it cannot. */
  run(name: ScriptName, args: ScriptArgument[]): Promise<ScriptReply> {
    if (!this.#up) {
      this.errors++;
      return Promise.reject(new StoreUnavailableError("Redis is unavailable"));
    }
    // One promise step on the way to the reply: this runs for every announce.
    return this.#fcall(name, args).catch((error) => this.#retried(name, args, error));
  }

  /** Closes the connection; calls after it fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#up = false;
    try {
      await this.#client.close();
    } catch {
      // Already closed or never connected.
    }
  }

  #fcall(name: ScriptName, args: ScriptArgument[]): Promise<ScriptReply> {
    return this.#timed.fCall(this.#library.functions[name], { arguments: args }) as Promise<
      ScriptReply
    >;
  }

  /** After a failed call: runs it again once if Redis had forgotten the library, else fails. */
  async #retried(name: ScriptName, args: ScriptArgument[], error: unknown): Promise<ScriptReply> {
    if (!String(messageOf(error)).includes("Function not found")) throw this.#failed(error);
    // Redis restarted without its dataset (or its functions were flushed): load and run again.
    try {
      await this.#loadLibrary();
      return await this.#fcall(name, args);
    } catch (again) {
      throw this.#failed(again);
    }
  }

  async #loadLibrary(): Promise<void> {
    // REPLACE: loading the same source again (another process, a reconnection) is harmless.
    await this.#client.functionLoad(this.#library.source, { REPLACE: true });
    this.#loaded = true;
  }

  #failed(error: unknown): StoreUnavailableError {
    this.errors++;
    return new StoreUnavailableError(`Redis call failed: ${oneLineMessageOf(error)}`, {
      cause: error,
    });
  }

  #wentAway(error: unknown): void {
    if (!this.#up || this.#closed) return;
    this.#up = false;
    this.#logger.log("error", `Redis at ${this.#url} is unavailable: ${oneLineMessageOf(error)}`);
  }

  #cameBack(): void {
    if (this.#closed) return;
    const wasDown = !this.#up && this.#loaded;
    this.#up = true;
    if (wasDown) {
      this.#logger.log("startup", `Redis at ${this.#url} is back`);
      // The library is loaded again on the first call that misses it; loading it now saves that.
      this.#loadLibrary().catch(() => {});
    }
  }
}

/** The URL without its password, for log lines. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
