/**
 * The program's name and version, in one place for `--version`, the help text and startup logs.
 *
 * @module
 */

/** The program name. */
export const NAME = "NoBrake";

/** The release version (keep in step with `version` in `deno.json`). */
export const VERSION = "0.1.0";
