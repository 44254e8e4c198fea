/**
 * Watches a directory tree and calls back once changes have settled (debounced), so that copying
 * a batch of `.torrent` files triggers one allowlist reload, not one per file.
 *
 * @module
 */

/** A running watch; `close()` stops it and cancels a pending callback. */
export interface DirectoryWatcher {
  close(): void;
}

/** Options for `watchDirectory`. */
export interface WatchOptions {
  /** Quiet time after the last change before `onChange` runs. @default 500 */
  debounceMs?: number;
  /** Told about a watch that fails after it started (the directory was removed, say). */
  onError?: (error: unknown) => void;
}

/** Calls `onChange` after files under `dir` change and then stay unchanged for `debounceMs`. */
export function watchDirectory(
  dir: string,
  onChange: () => void,
  options: WatchOptions = {},
): DirectoryWatcher {
  const debounceMs = options.debounceMs ?? 500;
  const watcher = Deno.watchFs(dir, { recursive: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      }
    } catch (error) {
      if (!closed) options.onError?.(error);
    }
  })();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
