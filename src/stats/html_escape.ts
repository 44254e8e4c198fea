/**
 * HTML escaping for text that strangers control: torrent names, user agents, addresses.
 *
 * Owns one function. It escapes for both element content and quoted attribute values, so callers
 * need not know where the text lands. It does not sanitize markup or URLs: nothing here is ever
 * meant to be rendered as HTML.
 *
 * @module
 */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  // `&#39;` rather than `&apos;`, which HTML 4 parsers do not know.
  "'": "&#39;",
};

/**
 * Escapes `& < > " '` so `text` shows as itself in element content or in a quoted attribute.
 *
 * @example
 * ```ts
 * escapeHtml('<a href="x">'); // "&lt;a href=&quot;x&quot;&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  // One pass, so an `&` produced by an earlier replacement is never escaped twice.
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}
