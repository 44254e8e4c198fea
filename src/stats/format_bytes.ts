/**
 * Human-readable byte counts for the /stats page, in binary (IEC) units: `"1.5 MiB"`.
 *
 * Owns display formatting only; exact counts are shown beside it by the caller (in a `title`).
 *
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;

/**
 * Formats a byte count with one decimal in the largest unit that keeps it under 1024:
 * `0` → `"0 B"`, `1023` → `"1023 B"`, `1572864` → `"1.5 MiB"`. Anything that is not a
 * non-negative finite number gives `"?"`.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  if (bytes < 1024) return `${Math.floor(bytes)} B`;
  let value = bytes;
  let unit = 0;
  // Compare the rounded value so that 1048575 B reads "1.0 MiB", not "1024.0 KiB".
  while (unit < UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
