/**
 * The text of a thrown value, for log lines and messages: an `Error`'s message, anything else as
 * `String` gives it. One place for what every module that logs a failure needs.
 *
 * @module
 */

/** An error's message, or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `messageOf`, with line breaks turned into spaces so that it fits one log line. */
export function oneLineMessageOf(error: unknown): string {
  return messageOf(error).replaceAll("\n", " ");
}
