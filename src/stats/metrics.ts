/**
 * /metrics: the counters and tracker-wide gauges in the Prometheus text exposition format 0.0.4,
 * a pure function of a counters snapshot and totals.
 *
 * Label values come from fixed sets only (`protocol`, `reason`, `family`, `le`, and the version
 * constant): never a torrent name, hash, address, user agent or anything else a client chose.
 * The gauges are aggregates over every swarm, secret ones included; no torrent is listed.
 *
 * @module
 */
import {
  type CountersSnapshot,
  DURATION_BUCKETS,
  FAILURE_REASONS,
  PROTOCOLS,
} from "./stats_counters.ts";
import type { StatsTotals } from "./stats_snapshot.ts";

/** The `Content-Type` of the exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What /metrics exports. */
export interface MetricsInput {
  counters: CountersSnapshot;
  /** Totals over every swarm (see `trackerTotals`). */
  totals: StatsTotals;
  version: string;
  /** Calls to a shared swarm store (Redis) that failed; `null` for the in-memory store. @default null */
  storeErrors?: number | null;
}

/** Renders the exposition text, one family after another, each with its HELP and TYPE. */
export function renderMetrics(input: MetricsInput): string {
  const { counters, totals } = input;
  const out: string[] = [];
  const family = (name: string, type: string, help: string) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const sample = (name: string, labels: [string, string][], value: number) => {
    const text = labels.length === 0
      ? ""
      : `{${labels.map(([key, label]) => `${key}="${escapeLabel(label)}"`).join(",")}}`;
    out.push(`${name}${text} ${formatValue(value)}`);
  };

  family("nobrake_announces_total", "counter", "Announces answered, by transport.");
  for (const p of PROTOCOLS) {
    sample("nobrake_announces_total", [["protocol", p]], counters.announces[p]);
  }
  family("nobrake_scrapes_total", "counter", "Scrapes answered, by transport.");
  for (const p of PROTOCOLS) {
    sample("nobrake_scrapes_total", [["protocol", p]], counters.scrapes[p]);
  }
  family(
    "nobrake_failures_total",
    "counter",
    "Announces and scrapes refused (or failed by a bug: reason internal), by transport and reason.",
  );
  for (const p of PROTOCOLS) {
    for (const reason of FAILURE_REASONS) {
      sample(
        "nobrake_failures_total",
        [["protocol", p], ["reason", reason]],
        counters.failures[p][reason],
      );
    }
  }

  if (input.storeErrors !== undefined && input.storeErrors !== null) {
    family(
      "nobrake_store_errors_total",
      "counter",
      "Calls to the shared swarm store (Redis) that failed: unreachable, too slow or refused.",
    );
    sample("nobrake_store_errors_total", [], input.storeErrors);
  }

  family(
    "nobrake_torrents",
    "gauge",
    "Torrents tracked: allowed torrents, or swarms held in open mode.",
  );
  sample("nobrake_torrents", [], totals.torrents);
  family("nobrake_seeders", "gauge", "Seeders over every swarm.");
  sample("nobrake_seeders", [], totals.seeders);
  family("nobrake_leechers", "gauge", "Leechers over every swarm, partial seeds included.");
  sample("nobrake_leechers", [], totals.leechers);
  family("nobrake_peers", "gauge", "Peers over every swarm, by address family.");
  sample("nobrake_peers", [["family", "ipv4"]], totals.ipv4);
  sample("nobrake_peers", [["family", "ipv6"]], totals.ipv6);
  family(
    "nobrake_websocket_peers",
    "gauge",
    "WebSocket (WebTorrent) peers over every swarm; they have no address family.",
  );
  sample("nobrake_websocket_peers", [], totals.websocket);

  family(
    "nobrake_request_duration_seconds",
    "histogram",
    "Time to handle an announce or scrape, over one request in 16, by transport.",
  );
  for (const p of PROTOCOLS) {
    const histogram = counters.durations[p];
    const bounds = [...DURATION_BUCKETS.map(String), "+Inf"];
    bounds.forEach((le, i) => {
      sample(
        "nobrake_request_duration_seconds_bucket",
        [["protocol", p], ["le", le]],
        histogram.cumulative[i],
      );
    });
    sample("nobrake_request_duration_seconds_sum", [["protocol", p]], histogram.sumSeconds);
    sample("nobrake_request_duration_seconds_count", [["protocol", p]], histogram.count);
  }

  family("nobrake_start_time_seconds", "gauge", "When the tracker started, in Unix seconds.");
  sample("nobrake_start_time_seconds", [], counters.startedAt / 1000);
  family("nobrake_build_info", "gauge", "Always 1; the version is a label.");
  sample("nobrake_build_info", [["version", input.version]], 1);
  return out.join("\n") + "\n";
}

/** Label values escape backslash, double quote and line feed (format 0.0.4). */
function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
