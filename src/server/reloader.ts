/**
 * The one reloader: on request (SIGHUP, or a change under `allowed` when `watch_allowed` is on) it
 * re-reads the TLS certificate and the passkeys (`AccessFiles`) and rebuilds the allowlist aside,
 * swapping each in whole; a file that fails is logged and the old value stays in force. Reloads
 * never overlap: one asked for while another runs waits for it.
 *
 * @module
 */
import { messageOf } from "../protocol/error_message.ts";
import { byteStringToHex } from "../protocol/byte_string.ts";
import { type Allowlist, diffAllowlists } from "../core/allowlist.ts";
import type { Tracker } from "../core/tracker.ts";
import type { AccessFiles, CertificateSink } from "../runtime/access_files.ts";
import { loadAllowlist } from "../runtime/allowlist_loader.ts";
import { type DirectoryWatcher, watchDirectory } from "../runtime/directory_watcher.ts";
import type { Logger } from "../runtime/logger.ts";

/** What the reloader reloads, and into what. */
export interface ReloaderDeps {
  tracker: Tracker;
  access: AccessFiles;
  /** The HTTP listener, which takes a reloaded certificate. */
  listener: CertificateSink;
  logger: Logger;
  /** The allowlist directory, or `null` in open mode (no allowlist to reload). */
  allowedDir: string | null;
  /** Reload by itself when files under `allowedDir` change. */
  watch: boolean;
}

/** A running reloader. */
export interface Reloader {
  /** Reloads everything; resolves when done. Never rejects for a bad file. */
  reload(): Promise<void>;
  /** Stops watching the directory. */
  close(): void;
}

/** Starts the reloader (and, when asked, its directory watcher). */
export function createReloader(deps: ReloaderDeps): Reloader {
  const { tracker, access, listener, logger, allowedDir } = deps;
  let reloading: Promise<void> | null = null;

  async function reloadAllowlist(dir: string): Promise<void> {
    try {
      const { allowlist: next, skipped } = await loadAllowlistLogged(dir, logger);
      const { added, removed } = diffAllowlists(tracker.allowlist, next);
      tracker.replaceAllowlist(next);
      for (const hash of added) logger.log("torrent", `${byteStringToHex(hash)} added`);
      for (const hash of removed) logger.log("torrent", `${byteStringToHex(hash)} deleted`);
      logger.log("torrent", `reloaded: ${next.size} torrents allowed, ${skipped} files skipped`);
    } catch (error) {
      logger.log("error", `reload failed, keeping the old allowlist: ${messageOf(error)}`);
    }
  }

  async function reload(): Promise<void> {
    // A reload requested while one runs waits for it rather than racing it.
    while (reloading !== null) await reloading;
    reloading = (async () => {
      await access.reload(listener);
      if (allowedDir !== null) await reloadAllowlist(allowedDir);
    })();
    try {
      await reloading;
    } finally {
      reloading = null;
    }
  }

  let watcher: DirectoryWatcher | null = null;
  if (deps.watch && allowedDir !== null) {
    watcher = watchDirectory(allowedDir, () => {
      logger.log("torrent", `change under ${allowedDir}, reloading the allowlist`);
      reload();
    }, {
      onError: (error) =>
        logger.log("error", `watching ${allowedDir} stopped: ${messageOf(error)}`),
    });
  }

  return {
    reload,
    close() {
      watcher?.close();
    },
  };
}

/** Loads the allowlist, logging one line per skipped file; returns the list and the skip count. */
export async function loadAllowlistLogged(
  dir: string,
  logger: Logger,
): Promise<{ allowlist: Allowlist; skipped: number }> {
  const { allowlist, skipped } = await loadAllowlist(dir);
  for (const file of skipped) logger.log("error", `skipped ${dir}/${file.path}: ${file.reason}`);
  return { allowlist, skipped: skipped.length };
}
