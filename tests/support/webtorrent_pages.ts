/**
 * What the WebTorrent browser test runs around the tracker: a small page server on loopback (the
 * npm `webtorrent` browser bundle, the peer page of `tests/testdata/webtorrent_peer.html`, the
 * file to seed, and a `/report` endpoint the pages POST their progress to), and headless Chromium
 * processes, each with a profile of its own that is removed when it stops.
 *
 * The tracker is not here: a test points the pages at any WebSocket tracker URL.
 *
 * @module
 */
import { createHash, createPublicKey } from "node:crypto";
import webtorrentPackage from "webtorrent/package.json" with { type: "json" };
import { type RunningProcess, spawnProcess } from "./child_process.ts";

/** Where Debian's Chromium is; the test is skipped without it. */
export const CHROMIUM = "/usr/bin/chromium";

/** The pinned webtorrent version whose browser bundle the pages load. */
export const WEBTORRENT_VERSION: string = webtorrentPackage.version;

/**
 * The bundle inside the npm package. The JSON import above puts the package in the module graph,
 * so Deno has downloaded it before this resolves to a file in its npm cache.
 */
const BUNDLE_URL = new URL(import.meta.resolve("webtorrent/dist/webtorrent.min.js"));
const PAGE_URL = new URL("../testdata/webtorrent_peer.html", import.meta.url);

/** Browser output lines shown in a failure message. */
const TAIL_LINES = 60;

/** The largest report body a page may POST; anything bigger is refused. */
const MAX_REPORT_BYTES = 64 * 1024;

/**
 * Flags for a headless Chromium whose WebRTC stays on loopback. Beyond the usual quiet headless
 * set, it needs two; without either one the download times out (tried):
 * - `--use-fake-ui-for-media-stream`: media permission checks answer "granted". Without camera
 *   or microphone permission Chromium gathers ICE candidates only on the default route's
 *   interface (here the Ethernet address, never 127.0.0.1), and the peer page drops every
 *   candidate that is not loopback.
 * - `--allow-loopback-in-peer-connection`: even with every interface listed, 127.0.0.1 is left
 *   out unless allowed.
 * With the permission, host candidates come as plain addresses, not mDNS `.local` names, so
 * `WebRtcHideLocalIpsWithMdns` need not be turned off (tried). `--enable-logging=stderr` puts the
 * pages' console on stderr, where a failure message shows its tail.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--enable-logging=stderr",
];

/** Whether Debian's Chromium is installed. */
export function chromiumInstalled(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** One JSON message a page posted to `/report`. */
export interface PageReport {
  /** `"seed"` or `"leech"`, from the page's query. */
  role: string;
  /** `"loaded"`, `"seeding"`, `"wire"`, `"progress"`, `"done"`, `"warning"` or `"error"`. */
  kind: string;
  [key: string]: unknown;
}

/** The loopback server the pages are loaded from and report to. */
export class PageServer implements AsyncDisposable {
  /** `http://127.0.0.1:port`. */
  readonly origin: string;
  /** Every report so far, in arrival order. */
  readonly reports: PageReport[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #listeners = new Set<() => void>();

  constructor(files: { bundle: Uint8Array; page: Uint8Array; seed: Uint8Array }) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => this.#handle(request, files),
    );
    this.origin = `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** The page URL for a peer with these query parameters. */
  pageUrl(query: Record<string, string>): string {
    return `${this.origin}/peer.html?${new URLSearchParams(query)}`;
  }

  /**
   * Waits up to `timeoutMs` for a report of `role` and `kind` (and, if given, one that `matches`
   * accepts) and returns it; fails at once on an `error` report from either page, with every
   * report so far in the message.
   */
  async waitFor(
    role: string,
    kind: string,
    timeoutMs: number,
    matches: (report: PageReport) => boolean = () => true,
  ): Promise<PageReport> {
    const wanted = `"${kind}" from the ${role} page`;
    let listener = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise<PageReport>((resolve, reject) => {
        listener = () => {
          if (this.reports.some((report) => report.kind === "error")) {
            reject(
              new Error(`a page reported an error, waiting for ${wanted}\n${this.describe()}`),
            );
            return;
          }
          const found = this.reports.find((report) =>
            report.role === role && report.kind === kind && matches(report)
          );
          if (found !== undefined) resolve(found);
        };
        this.#listeners.add(listener);
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${wanted}\n${this.describe()}`,
              ),
            ),
          timeoutMs,
        );
        listener();
      });
    } finally {
      this.#listeners.delete(listener);
      clearTimeout(timer);
    }
  }

  /** Every report so far, one a line, for an assertion message. */
  describe(): string {
    if (this.reports.length === 0) return "reports: none";
    return `reports:\n${this.reports.map((report) => `  ${JSON.stringify(report)}`).join("\n")}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.shutdown();
  }

  async #handle(
    request: Request,
    files: { bundle: Uint8Array; page: Uint8Array; seed: Uint8Array },
  ): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/report") return await this.#record(request);
    if (request.method !== "GET") return new Response("method not allowed", { status: 405 });
    switch (pathname) {
      case "/peer.html":
        return bytesResponse(files.page, "text/html; charset=utf-8");
      case "/webtorrent.min.js":
        return bytesResponse(files.bundle, "text/javascript; charset=utf-8");
      case "/file.bin":
        return bytesResponse(files.seed, "application/octet-stream");
      default:
        return new Response("not found", { status: 404 });
    }
  }

  async #record(request: Request): Promise<Response> {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > MAX_REPORT_BYTES) return new Response("too large", { status: 413 });
    let report: PageReport;
    try {
      report = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return new Response("not JSON", { status: 400 });
    }
    this.reports.push(report);
    for (const listener of this.#listeners) listener();
    return new Response(null, { status: 204 });
  }
}

function bytesResponse(bytes: Uint8Array, contentType: string): Response {
  return new Response(bytes.slice(), {
    headers: { "content-type": contentType, "cache-control": "no-store" },
  });
}

/** Starts the page server that serves `seed` as the file the seeder page shares. */
export async function startPageServer(seed: Uint8Array): Promise<PageServer> {
  const [bundle, page] = await Promise.all([Deno.readFile(BUNDLE_URL), Deno.readFile(PAGE_URL)]);
  return new PageServer({ bundle, page, seed });
}

/** A headless Chromium showing one page; stopping it also removes its profile directory. */
export interface BrowserPage extends AsyncDisposable {
  readonly process: RunningProcess;
  /** The browser's last lines, without the D-Bus complaints of a machine with no session bus. */
  tail(): string;
}

/** Options of `openInChromium`. */
export interface ChromiumOptions {
  /** The browser is killed after this many milliseconds, whatever it is doing. */
  timeoutMs: number;
  /** Flags after `CHROMIUM_FLAGS`. @default [] */
  extraFlags?: readonly string[];
}

/**
 * Opens `url` in a headless Chromium of its own (a fresh temporary `--user-data-dir`), killed
 * after `options.timeoutMs` whatever happens.
 */
export async function openInChromium(
  name: string,
  url: string,
  options: ChromiumOptions,
): Promise<BrowserPage> {
  const profile = await Deno.makeTempDir({ prefix: `nobrake-chromium-${name}-` });
  const process = spawnProcess(name, CHROMIUM, {
    args: [...CHROMIUM_FLAGS, ...options.extraFlags ?? [], `--user-data-dir=${profile}`, url],
    timeoutMs: options.timeoutMs,
  });
  return {
    process,
    tail() {
      const shown = process.lines
        .filter((line) => !/dbus|D-Bus/.test(line.text))
        .slice(-TAIL_LINES)
        .map((line) => `  ${line.text}`);
      return `${name} (pid ${process.pid}), last output:\n${shown.join("\n")}`;
    },
    async [Symbol.asyncDispose]() {
      try {
        await process.stop();
      } finally {
        await Deno.remove(profile, { recursive: true });
      }
    },
  };
}

/**
 * The flag that makes Chromium accept the certificate of this PEM private key (its public key's
 * SHA-256, as `--ignore-certificate-errors-spki-list` takes it), and no other untrusted one.
 */
export function trustKeyFlag(keyPem: string): string {
  const spki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  return `--ignore-certificate-errors-spki-list=${
    createHash("sha256").update(spki).digest("base64")
  }`;
}
