/**
 * NoBrake's entry point: reads the command line and the config, opens the log, starts the tracker,
 * and owns the process: signals (SIGHUP reloads the allowlist, the TLS certificate and the
 * passkeys; SIGINT/SIGTERM stop gracefully and exit 0, a second one exits at once with 1) and exit
 * codes (2 for a config or start-up problem).
 *
 * @module
 */
import { messageOf } from "./src/protocol/error_message.ts";
import { ConfigError } from "./src/config.ts";
import { CliError, HELP_TEXT, loadConfigFile, parseCli, VERSION_TEXT } from "./src/runtime/cli.ts";
import { createLogger, type Logger } from "./src/runtime/logger.ts";
import { startTrackerServer } from "./src/server.ts";

/** Exit code for a problem the operator must fix: bad arguments, config or allowed directory. */
const EXIT_USAGE = 2;
/** Exit code when a second signal cuts a graceful stop short, or the stop itself failed. */
const EXIT_INTERRUPTED = 1;

function fail(message: string): never {
  Deno.stderr.writeSync(new TextEncoder().encode(`nobrake: ${message}\n`));
  Deno.exit(EXIT_USAGE);
}

async function main(args: string[]): Promise<void> {
  let command;
  try {
    command = parseCli(args);
  } catch (error) {
    if (error instanceof CliError) fail(`${error.message} (see --help)`);
    throw error;
  }
  if (command.kind === "help") {
    Deno.stdout.writeSync(new TextEncoder().encode(HELP_TEXT));
    return;
  }
  if (command.kind === "version") {
    Deno.stdout.writeSync(new TextEncoder().encode(`${VERSION_TEXT}\n`));
    return;
  }
  let logger: Logger | null = null;
  try {
    const config = await loadConfigFile(command.configPath, {
      onWarning: (message) =>
        Deno.stderr.writeSync(new TextEncoder().encode(`nobrake: ${message}\n`)),
    });
    logger = createLogger({ path: config.logfile, level: config.log_level });
    const server = await startTrackerServer(config, { logger });
    const activeLogger = logger;
    let stopping = false;
    const stop = async (signal: Deno.Signal) => {
      if (stopping) {
        activeLogger.log("startup", `received ${signal} again, exiting at once`);
        activeLogger.close();
        Deno.exit(EXIT_INTERRUPTED);
      }
      stopping = true;
      activeLogger.log("startup", `received ${signal}, shutting down`);
      let code = 0;
      try {
        await server.shutdown();
      } catch (error) {
        activeLogger.log(
          "error",
          `shutdown failed: ${messageOf(error)}`,
        );
        code = EXIT_INTERRUPTED;
      }
      activeLogger.log("startup", "stopped");
      activeLogger.close();
      Deno.exit(code);
    };
    Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
    Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
    Deno.addSignalListener("SIGHUP", () => {
      activeLogger.log("startup", "received SIGHUP, reloading");
      server.reload();
    });
  } catch (error) {
    logger?.close();
    if (error instanceof ConfigError) fail(error.message);
    fail(messageOf(error));
  }
}

if (import.meta.main) await main(Deno.args);
