/**
 * The stylesheet of the /stats page, inlined into it (the page loads nothing). It also colours
 * the inline SVG charts by class, so the charts follow the light or dark scheme of the page.
 *
 * Phone first: one column, tables scroll sideways inside `.scroll` rather than widening the page,
 * and long names and hashes wrap anywhere, since neither has spaces to break at.
 *
 * @module
 */

/** The CSS of the /stats page. */
export const STATS_STYLE = `
:root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.4;
--seeders:#2e9d4f;--leechers:#e07b18;--announces:#3b7dd8;--scrapes:#9b59b6}
body{margin:0 auto;max-width:72rem;padding:.75rem}
h1{font-size:1.3rem;margin:0 0 .25rem}
h2{font-size:1.05rem;margin:0 0 .5rem;overflow-wrap:anywhere}
header p{margin:.25rem 0}
.meta,.note{font-size:.9rem;opacity:.8}
.totals{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:.5rem 0;padding:0}
.totals li{white-space:nowrap}
.requests{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:flex-start;margin:.5rem 0}
.requests .scroll{flex:0 1 auto}
.rates{min-width:0}
.rates th[scope=row]{font-weight:normal}
section{border:1px solid #8886;border-radius:.5rem;margin:1rem 0;padding:.75rem}
.overview{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:flex-start}
.overview dl{flex:0 1 auto}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .75rem;margin:0 0 .75rem}
dt{opacity:.75}
dd{margin:0;overflow-wrap:anywhere;min-width:0}
code{font-family:ui-monospace,monospace;font-size:.9em}
.label{opacity:.75;margin-right:.35em}
figure{margin:0 0 .75rem;flex:1 1 14rem;max-width:24rem}
.request-chart{max-width:30rem}
figcaption{font-size:.8rem;opacity:.8}
.chart{display:block;width:100%;height:auto;border-bottom:0}
.chart polyline{fill:none;stroke-width:2;stroke-linejoin:round;vector-effect:non-scaling-stroke}
.chart .axis{stroke:#8888;stroke-width:1;vector-effect:non-scaling-stroke}
.chart .seeders{stroke:var(--seeders);fill:var(--seeders)}
.chart .leechers{stroke:var(--leechers);fill:var(--leechers)}
.chart .announces{stroke:var(--announces);fill:var(--announces)}
.chart .scrapes{stroke:var(--scrapes);fill:var(--scrapes)}
.chart polyline.seeders,.chart polyline.leechers,.chart polyline.announces,
.chart polyline.scrapes{fill:none}
.key::before{content:"";display:inline-block;width:.7em;height:.7em;border-radius:.2em;
margin-right:.3em;vertical-align:-.05em}
.key.seeders::before{background:var(--seeders)}
.key.leechers::before{background:var(--leechers)}
.key.announces::before{background:var(--announces)}
.key.scrapes::before{background:var(--scrapes)}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;min-width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #8886;padding:.3rem .5rem;text-align:left;white-space:nowrap}
/* A long user agent wraps inside 18rem; a short one keeps its row one line high. */
.agent{display:inline-block;width:max-content;max-width:18rem;white-space:normal;
overflow-wrap:anywhere}
.num{text-align:right;font-variant-numeric:tabular-nums}
.via{display:block;font-size:.85em;opacity:.75}
.pager{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;font-size:.9rem;
margin:.5rem 0}
.more{font-size:.9rem;margin:.5rem 0 0}
.empty,footer{opacity:.75}
footer{font-size:.85rem;margin-top:1.5rem}
`;
