/**
 * The verdict of the soak run: is the tracker's resident memory flat after warm-up? Pure. The
 * samples are cut in thirds: the first is warm-up (the JIT, the swarms filling, the V8 heap
 * settling), and the mean of the last third is compared with the mean of the middle third. A
 * leak that grows with requests shows as growth; noise of the garbage collector averages out.
 *
 * @module
 */

/** One memory sample of the soak run. */
export interface SoakSample {
  /** Seconds since the load began. */
  seconds: number;
  /** `VmRSS` of the tracker process. */
  rssBytes: number;
  /** V8 heap in use after a full collection (`--heap` runs only), else `null`. */
  heapUsedBytes: number | null;
  /** V8 heap reserved after that collection (`--heap` runs only), else `null`. */
  heapTotalBytes: number | null;
  /** Memory outside the V8 heap that V8 knows of, typed arrays' buffers (`--heap` only). */
  externalBytes: number | null;
  /** Requests the load sent per second since the previous sample. */
  requestsPerSecond: number;
  /** `/stats.json` totals, or `null` when it did not answer in time. */
  torrents: number | null;
  peers: number | null;
}

/** What the samples say. */
export interface SoakSummary {
  minBytes: number;
  maxBytes: number;
  middleMeanBytes: number;
  lastMeanBytes: number;
  /** Growth of the last third's mean over the middle third's, in percent. */
  growthPercent: number;
  limitPercent: number;
  /** Growth at most `limitPercent`. */
  flat: boolean;
}

/** Summarises the samples (at least three). */
export function summarise(samples: readonly SoakSample[], limitPercent: number): SoakSummary {
  if (samples.length < 3) throw new Error(`need at least 3 samples, got ${samples.length}`);
  const rss = samples.map((sample) => sample.rssBytes);
  const third = Math.floor(rss.length / 3);
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const middleMeanBytes = mean(rss.slice(third, rss.length - third));
  const lastMeanBytes = mean(rss.slice(rss.length - third));
  const growthPercent = (lastMeanBytes / middleMeanBytes - 1) * 100;
  return {
    minBytes: Math.min(...rss),
    maxBytes: Math.max(...rss),
    middleMeanBytes,
    lastMeanBytes,
    growthPercent,
    limitPercent,
    flat: growthPercent <= limitPercent,
  };
}
