/**
 * How the config file's values are read and checked (`Reader`s: a non-empty string, a flag, an
 * integer in a range, one of a few strings, ...) and how a key is declared in the key table of
 * `config.ts` (`key`, `requiredKey`, `obsolete`). Pure.
 *
 * @module
 */

/** How one key's value is checked: what it must be, and a reader returning `undefined` if not. */
export interface Reader<T> {
  readonly expected: string;
  read(value: unknown): T | undefined;
}

/** One key of the config: how it is read, its default, and the line that documents it. */
export interface KeySpec<T> {
  readonly kind: "key";
  readonly reader: Reader<T>;
  /**
   * The value when the key is absent; for a required key, the value `tracker.json` ships (the
   * README's), since a required key has no default.
   */
  readonly defaultValue: T;
  readonly required: boolean;
  readonly doc: string;
}

/** A key the original tracker needed that NoBrake accepts with a warning and ignores. */
export interface ObsoleteKey {
  readonly kind: "obsolete";
  /** Why it is ignored, for the warning. */
  readonly reason: string;
}

export function key<T>(reader: Reader<T>, defaultValue: T, doc: string): KeySpec<T> {
  return { kind: "key", reader, defaultValue, required: false, doc };
}

export function requiredKey<T>(reader: Reader<T>, shipped: T, doc: string): KeySpec<T> {
  return { kind: "key", reader, defaultValue: shipped, required: true, doc };
}

export function obsolete(reason: string): ObsoleteKey {
  return { kind: "obsolete", reason };
}

export const nonEmptyString: Reader<string> = {
  expected: "a non-empty string",
  read: (value) => typeof value === "string" && value !== "" ? value : undefined,
};

/** The original tested these keys with Perl truth, and its README says "set to 1". */
export const flag: Reader<boolean> = {
  expected: "true, false, 1 or 0",
  read: (value) =>
    value === true || value === 1 ? true : value === false || value === 0 ? false : undefined,
};

export function integer(min: 0 | 1, max?: number): Reader<number> {
  return {
    expected: max !== undefined
      ? `an integer from ${min} to ${max}`
      : min === 1
      ? "a positive integer"
      : "a non-negative integer",
    read: (value) =>
      typeof value === "number" && Number.isSafeInteger(value) && value >= min &&
        value <= (max ?? Number.MAX_SAFE_INTEGER)
        ? value
        : undefined,
  };
}

export function orNull<T>(reader: Reader<T>): Reader<T | null> {
  return {
    expected: `${reader.expected} or null`,
    read: (value) => value === null ? null : reader.read(value),
  };
}

export function oneOf<const T extends string>(choices: readonly T[]): Reader<T> {
  return {
    expected: `one of ${choices.map((choice) => JSON.stringify(choice)).join(", ")}`,
    read: (value) => choices.find((choice) => choice === value),
  };
}

export const addressList: Reader<readonly string[]> = {
  expected: "a list of IP addresses and CIDR ranges",
  read: (value) =>
    Array.isArray(value) && value.every((entry) => typeof entry === "string")
      ? Object.freeze([...value])
      : undefined,
};
