/**
 * The command line: which config file to run with, or whether to print help or the version, and
 * reading that config file from disk. Printing, exit codes and everything after the config is
 * loaded belong to `main.ts`.
 *
 * @module
 */
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { messageOf } from "../protocol/error_message.ts";
import {
  type Config,
  ConfigError,
  parseConfig,
  type ParseConfigOptions,
  resolveConfigPaths,
} from "../config.ts";
import { NAME, VERSION } from "../version.ts";

/** What the command line asks for. */
export type CliCommand =
  | { kind: "run"; configPath: string }
  | { kind: "help" }
  | { kind: "version" };

/** A command line that cannot be understood; the message is one line, meant for stderr. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** The config file used when the command line names none (the original used `tracker.cfg`). */
export const DEFAULT_CONFIG_PATH = "tracker.json";

/** What `--version` prints. */
export const VERSION_TEXT = `${NAME} ${VERSION}`;

/** What `--help` prints. */
export const HELP_TEXT = `${NAME} ${VERSION}: a BitTorrent tracker

Usage: nobrake [OPTIONS] [CONFIG]

Runs the tracker with the JSON config file CONFIG (default: ${DEFAULT_CONFIG_PATH}).
A config file written for the original Perl NoBrakeTracker works unchanged.

Options:
  --config PATH   the config file, instead of the CONFIG argument
  -h, --help      print this help and exit
  -V, --version   print the version and exit

The config keys, log format and URL paths are described in README.md.
`;

const OPTIONS = {
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/** Reads the command line arguments (without the program name): `Deno.args`. */
export function parseCli(args: string[]): CliCommand {
  // Non-strict parsing with tokens: node's strict mode reports problems in multi-line messages
  // that tell the user about `--`; checking the tokens here gives one short line instead.
  const { tokens } = parseArgs({
    args,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let help = false;
  let version = false;
  const configPaths: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") {
      configPaths.push(token.value);
    } else if (token.kind === "option") {
      switch (token.name) {
        case "help":
        case "version":
          if (token.value !== undefined) {
            throw new CliError(`option "${token.rawName}" takes no value`);
          }
          if (token.name === "help") help = true;
          else version = true;
          break;
        case "config":
          // Without "=", a value starting with "-" is more likely a forgotten path than a path.
          if (token.value === undefined || (!token.inlineValue && token.value.startsWith("-"))) {
            throw new CliError(`option "--config" needs a path`);
          }
          configPaths.push(token.value);
          break;
        default:
          throw new CliError(`unknown option "${token.rawName}" (see --help)`);
      }
    }
  }
  if (help) return { kind: "help" };
  if (version) return { kind: "version" };
  if (configPaths.length > 1) {
    const named = configPaths.map((path) => `"${path}"`).join(" and ");
    throw new CliError(`more than one config file given: ${named}`);
  }
  return { kind: "run", configPath: configPaths[0] ?? DEFAULT_CONFIG_PATH };
}

/**
 * Reads, parses and checks the config file at `path`, resolving its relative paths against the
 * file's directory. Throws `ConfigError` (one line, naming the file) if any of that fails.
 */
export async function loadConfigFile(
  path: string,
  options: ParseConfigOptions = {},
): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(path, null, `cannot read file: ${readFailure(error)}`);
  }
  return resolveConfigPaths(parseConfig(text, path, options), dirname(path));
}

/** Deno's messages repeat the path and the OS error number; the common cases read better short. */
function readFailure(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) return "no read permission (run with --allow-read)";
  const message = messageOf(error);
  return message.split("\n")[0];
}
