/**
 * A real BitTorrent client that died of a signal it was not sent (libtorrent's Python binding has
 * segfaulted here mid-download, exit 139, in one full run of many): a fault of the client, not of
 * the tracker. The real-client tests run a case once more when that happens (`client_gate.ts`),
 * and say so; any other failure, or a second crash, fails the test.
 *
 * @module
 */

/** Signals that mean the client crashed (a stop sends SIGTERM or SIGKILL, never these). */
const CRASH_SIGNALS: ReadonlySet<string> = new Set(["SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL"]);

/** A client process that crashed. */
export class ClientCrashed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClientCrashed";
  }
}

/** Whether `status` is a crash: a crash signal, or a shell's 128 + its number. */
export function isCrash(status: Deno.CommandStatus): boolean {
  if (status.signal !== null && CRASH_SIGNALS.has(status.signal)) return true;
  // 139 = 128 + SIGSEGV, 135 = SIGBUS, 134 = SIGABRT, 132 = SIGILL (a wrapper shell's exit code).
  return [132, 134, 135, 139].includes(status.code);
}

/** Throws `ClientCrashed` when `status` is a crash, naming `what` and adding `detail` (its output). */
export function throwIfCrashed(status: Deno.CommandStatus, what: string, detail = ""): void {
  if (isCrash(status)) {
    throw new ClientCrashed(
      `${what} crashed (exit ${status.code}, signal ${status.signal ?? "none"})\n${detail}`,
    );
  }
}

/** The `ClientCrashed` in `error` or its chain of causes, or `null`. */
export function crashIn(error: unknown): ClientCrashed | null {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; depth++) {
    if (cause instanceof ClientCrashed) return cause;
    cause = cause.cause;
  }
  return null;
}

/**
 * Runs `run`; when it fails because a client crashed, calls `onRetry` with the crash and runs it
 * once more. Any other failure, or a failure of the second run, is thrown.
 */
export async function retryOnceIfClientCrashed(
  run: () => Promise<void>,
  onRetry: (crash: ClientCrashed) => void,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    const crash = crashIn(error);
    if (crash === null) throw error;
    onRetry(crash);
    await run();
  }
}
