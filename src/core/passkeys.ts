/**
 * The passkey list of a private-ish tracker: an immutable set of keys parsed from the text of the
 * key file, and the one check every transport makes. Pure: reading the file is
 * `src/runtime/passkey_loader.ts`; where a key sits in a URL is `src/protocol/passkey.ts`.
 *
 * Like the allowlist, a new list is built whole on reload and swapped in with one assignment.
 *
 * @module
 */
import { PASSKEY_PATTERN } from "../protocol/passkey.ts";
import { ClientError } from "../protocol/client_error.ts";

/** A line of the key file that is not a valid key. */
export interface SkippedLine {
  /** 1-based. */
  line: number;
  reason: string;
}

/** An immutable set of passkeys. */
export class Passkeys {
  readonly #keys: ReadonlySet<string>;

  constructor(keys: Iterable<string>) {
    this.#keys = new Set(keys);
  }

  /**
   * Parses a key file: one key per line; blank lines and lines starting with `#` are skipped, and
   * so is text after ` #` on a line. Surrounding whitespace is trimmed. Lines that are not a valid
   * key (see `PASSKEY_PATTERN`) are reported in `skipped`, never silently dropped.
   */
  static parse(text: string): { passkeys: Passkeys; skipped: SkippedLine[] } {
    const keys: string[] = [];
    const skipped: SkippedLine[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i];
      const comment = line.search(/(^|\s)#/);
      if (comment !== -1) line = line.slice(0, comment);
      line = line.trim();
      if (line === "") continue;
      if (PASSKEY_PATTERN.test(line)) keys.push(line);
      else {
        skipped.push({
          line: i + 1,
          reason: "not a passkey (1 to 128 of A-Z a-z 0-9 - . _ ~)",
        });
      }
    }
    return { passkeys: new Passkeys(keys), skipped };
  }

  /** Number of keys. */
  get size(): number {
    return this.#keys.size;
  }

  /** True when `key` is on the list. */
  has(key: string): boolean {
    return this.#keys.has(key);
  }
}

/**
 * Refuses a request whose passkey is missing or unknown, when a list is in force (`passkeys` not
 * `null`). The message never echoes the key. No `retry in`: waiting does not make a key valid.
 */
export function requirePasskey(passkeys: Passkeys | null, key: string | null): void {
  if (passkeys === null) return;
  if (key === null) {
    throw new ClientError("this tracker needs a passkey in the announce URL", {
      reason: "not_allowed",
    });
  }
  if (!passkeys.has(key)) throw new ClientError("unknown passkey", { reason: "not_allowed" });
}
