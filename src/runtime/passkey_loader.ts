/**
 * Reads the passkey file named by the `passkeys` config key into a `Passkeys` set. The parsing
 * rules are in `src/core/passkeys.ts`; this only does the I/O and names the file in its errors.
 *
 * @module
 */
import { Passkeys, type SkippedLine } from "../core/passkeys.ts";

/** A loaded key file. */
export interface LoadedPasskeys {
  passkeys: Passkeys;
  /** Lines that were not valid keys, for the log. */
  skipped: SkippedLine[];
}

/** Reads and parses `path`. Throws an `Error` naming the file if it cannot be read. */
export async function loadPasskeys(path: string): Promise<LoadedPasskeys> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(`cannot read passkey file "${path}": ${reason}`, { cause: error });
  }
  return Passkeys.parse(text);
}
