/**
 * The one rule for tests that need real BitTorrent clients: a missing client FAILS the test
 * (CI installs them all, see `.ci/run`), unless `NOBRAKE_SKIP_REAL_CLIENTS=1` is set, which skips
 * the tests with one plain SKIP line saying what is missing. IPv6 cases are skipped, with a SKIP
 * line, where the IPv6 loopback cannot be bound.
 *
 * @module
 */
import { canBind } from "./e2e_files.ts";
import { type ClientName, missingClients } from "./real_clients.ts";
import { retryOnceIfClientCrashed } from "./client_crash.ts";

/** What `clientGate` returns. */
export interface ClientGate {
  /** Defines a test that needs the clients; `ignore` skips it for another reason. */
  test(name: string, fn: () => Promise<void>, options?: { ignore?: boolean }): void;
  /** Why IPv6 cases cannot run here, or `null` when they can. */
  readonly ipv6Missing: string | null;
}

const encoder = new TextEncoder();

/** Prints a line to stdout (a SKIP notice), without the console (linted away in this repo). */
export function say(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

/** Checks `clients` once, says SKIP when skipping, and returns the test definer. */
export async function clientGate(
  label: string,
  clients: readonly ClientName[],
): Promise<ClientGate> {
  const missing = await missingClients(clients);
  const skipAll = missing.length > 0 && Deno.env.get("NOBRAKE_SKIP_REAL_CLIENTS") === "1";
  if (skipAll) {
    say(`SKIP ${label}: not installed: ${missing.join(", ")} (NOBRAKE_SKIP_REAL_CLIENTS=1)`);
  }
  const ipv6Missing = canBind("::1") ? null : "cannot bind [::1]: IPv6 loopback is off here";
  if (ipv6Missing !== null && !skipAll) say(`SKIP IPv6 cases of ${label}: ${ipv6Missing}`);
  return {
    ipv6Missing,
    test(name, fn, options = {}) {
      Deno.test({
        name,
        ignore: skipAll || (options.ignore ?? false),
        fn: async () => {
          if (missing.length > 0) {
            throw new Error(
              `real clients not installed: ${missing.join(", ")}. Install them (.ci/run does), ` +
                "or set NOBRAKE_SKIP_REAL_CLIENTS=1 to skip these tests.",
            );
          }
          await retryOnceIfClientCrashed(fn, (crash) => say(`RETRY ${name}: ${crash.message}`));
        },
      });
    },
  };
}
