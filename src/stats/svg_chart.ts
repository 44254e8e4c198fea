/**
 * Small inline SVG line charts for /stats, drawn on the server: no script, no external asset, a
 * few hundred bytes each. A chart is a pure function of numbers. A missing value (`null`) is not
 * a zero: the line joins the values on either side of it, and a series with one value is a dot.
 *
 * Colours come from the page's stylesheet through the class of each series, so one chart suits
 * light and dark pages. The only text in a chart is its label, escaped here.
 *
 * @module
 */
import { escapeHtml } from "./html_escape.ts";

/** One line of a chart. */
export interface ChartSeries {
  /** Values left to right, evenly spaced; `null` = no value. */
  values: readonly (number | null)[];
  /** The CSS class that colours this line (a fixed name from the page, never client text). */
  className: string;
}

/** Options for {@linkcode renderLineChart}. */
export interface LineChartOptions {
  /** What the chart shows, for screen readers and as a tooltip. */
  label: string;
  /** viewBox width. @default 240 */
  width?: number;
  /** viewBox height. @default 48 */
  height?: number;
}

/** The highest value over every series, at least 1 (so an idle chart is a flat baseline). */
export function chartMaximum(series: readonly ChartSeries[]): number {
  let max = 1;
  for (const line of series) {
    for (const value of line.values) if (value !== null && value > max) max = value;
  }
  return max;
}

/** An `<svg>` element drawing every series on one shared scale from 0 to their maximum. */
export function renderLineChart(series: readonly ChartSeries[], options: LineChartOptions): string {
  const width = options.width ?? 240;
  const height = options.height ?? 48;
  const max = chartMaximum(series);
  // Two units of padding keep a dot or a line at an edge inside the box.
  const pad = 2;
  const top = pad;
  const bottom = height - pad;
  const label = escapeHtml(options.label);
  const parts: string[] = [];
  for (const line of series) {
    const steps = Math.max(1, line.values.length - 1);
    const points: [number, number][] = [];
    line.values.forEach((value, i) => {
      if (value !== null) {
        const x = pad + (i / steps) * (width - 2 * pad);
        points.push([round(x), round(bottom - (value / max) * (bottom - top))]);
      }
    });
    if (points.length === 1) {
      const [[x, y]] = points;
      parts.push(`<circle class="${line.className}" cx="${x}" cy="${y}" r="2"/>`);
    } else if (points.length > 1) {
      parts.push(`<polyline class="${line.className}" points="${flatten(points)}"/>`);
    }
  }
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" ` +
    `role="img" aria-label="${label}"><title>${label}</title>` +
    `<line class="axis" x1="0" y1="${bottom}" x2="${width}" y2="${bottom}"/>` +
    parts.join("") + `</svg>`;
}

/** `"x,y x,y ..."`, leaving out the middle points of a flat run (they draw nothing). */
function flatten(points: [number, number][]): string {
  const kept = points.filter(([, y], i) =>
    i === 0 || i === points.length - 1 || y !== points[i - 1][1] || y !== points[i + 1][1]
  );
  return kept.map(([x, y]) => `${x},${y}`).join(" ");
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
