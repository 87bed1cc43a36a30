// The rehearsal report: a text timeline for the terminal, and a
// self-contained HTML page (inline SVG, no scripts or external files) with
// the polls per 100 ms answered by server 1 / server 2 / failed and the
// events of the cut-over marked on it.
import { summarisePolls, type PollSummary } from '../hosts/records.js';
import type { RehearsalResult, TimelineEntry } from './rehearsal.js';

const ms = (n: number | null) => (n === null ? '—' : `${Math.round(n)} ms`);

export function timelineText(r: RehearsalResult): string {
  const o = r.options;
  const lines = [
    `Rehearsal: embodiment ${o.embodiment}, ${o.routing} routing, ${o.cutover} cut-over, ${o.fleetSize} appliances every ${o.pollIntervalMs} ms`,
    '',
    '  ms since start  event',
    ...r.timeline.map((e) => `  ${String(Math.round(e.t - r.startedAt)).padStart(14)}  ${e.what}  [${e.source}]`),
    '',
    `  fleet polls ${r.metrics.fleetPolls} (${r.metrics.pollsPerSecond.toFixed(0)}/s), failed ${r.metrics.failedPolls}, longest gap without an answer ${ms(r.metrics.longestGapMs)}`,
    `  test poll at server 2 → ${o.cutover === 'drain' ? 'drain start' : 'port blocked'} ${ms(r.metrics.historyToBlockMs)} (includes the server's ${o.serverDelayMs} ms think time), ` +
      `→ R1 route change ${ms(r.metrics.blockToRouteChangeMs)}, → first fleet poll answered by server 2 ${ms(r.metrics.blockToFirstServer2Ms)}`,
    '',
    ...r.checks.map((c) => `  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`),
    `  VERDICT: ${r.ok ? 'PASS' : 'FAIL'}`,
  ];
  return lines.join('\n');
}

export function comparisonText(runs: RehearsalResult[]): string {
  if (runs.length < 2) return '';
  const rows = runs.map((r) => `  ${r.options.cutover.padEnd(6)} ${String(r.metrics.fleetPolls).padStart(7)} ${String(r.metrics.failedPolls).padStart(7)} ${ms(r.metrics.longestGapMs).padStart(12)} ${ms(r.metrics.blockToFirstServer2Ms).padStart(22)}`);
  return ['Cut-over modes compared', '  mode     polls  failed  longest gap  switch→first server 2', ...rows].join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Stacked bars of polls per bucket (server 1 / server 2 / failed), event lines on top. */
function chart(summary: PollSummary, timeline: TimelineEntry[], startedAt: number): string {
  const buckets = summary.buckets;
  if (buckets.length === 0) return '<p>No polls were recorded.</p>';
  const W = 1100;
  const H = 260;
  const pad = { l: 48, r: 10, t: 20, b: 40 };
  const t0 = buckets[0]!.t;
  const t1 = buckets.at(-1)!.t + summary.bucketMs;
  const maxY = Math.max(1, ...buckets.map((b) => (b.byServer.server1 ?? 0) + (b.byServer.server2 ?? 0) + b.failed));
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const y = (n: number) => H - pad.b - (n / maxY) * (H - pad.t - pad.b);
  const bw = Math.max(1, x(t0 + summary.bucketMs) - x(t0) - 0.5);
  const bars: string[] = [];
  for (const b of buckets) {
    let base = 0;
    for (const [n, cls] of [[b.byServer.server1 ?? 0, 's1'], [b.byServer.server2 ?? 0, 's2'], [b.failed, 'fail']] as const) {
      if (n === 0) continue;
      bars.push(`<rect class="${cls}" x="${x(b.t).toFixed(1)}" y="${y(base + n).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(base) - y(base + n)).toFixed(1)}"/>`);
      base += n;
    }
  }
  const marks = timeline.filter((e) => e.t >= t0 && e.t <= t1 && !/started|testbed up|fleet of/.test(e.what)).map((e, i) => {
    const xx = x(e.t).toFixed(1);
    return `<line class="ev" x1="${xx}" x2="${xx}" y1="${pad.t}" y2="${H - pad.b}"/><text class="evl" x="${xx}" y="${pad.t - 6 + (i % 2) * -8 + 8}">${i + 1}</text>`;
  });
  const ticks: string[] = [];
  const span = t1 - t0;
  const step = span > 60_000 ? 10_000 : span > 20_000 ? 5_000 : span > 5_000 ? 1_000 : 250;
  for (let t = Math.ceil((t0 - startedAt) / step) * step + startedAt; t <= t1; t += step) {
    const label = step >= 1000 ? `${((t - startedAt) / 1000).toFixed(0)} s` : `${((t - startedAt) / 1000).toFixed(2)} s`;
    ticks.push(`<text class="tick" x="${x(t).toFixed(1)}" y="${H - pad.b + 16}">${label}</text>`);
  }
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="polls per ${summary.bucketMs} ms">
<text class="axis" x="${pad.l - 6}" y="${pad.t + 4}">${maxY}</text><text class="axis" x="${pad.l - 6}" y="${H - pad.b}">0</text>
${bars.join('')}${marks.join('')}${ticks.join('')}
<text class="tick" x="${W / 2}" y="${H - 6}">time since the rehearsal started (polls per ${summary.bucketMs} ms by send time)</text></svg>`;
}

/** The cut-over up close: 1 s before to 2 s after R1's route change, 20 ms buckets. */
function zoom(r: RehearsalResult): string {
  const at = r.moments.r1RouteChanged;
  if (at === null) return '';
  const near = r.fleetPolls.filter((p) => p.t >= at - 1000 && p.t <= at + 2000);
  return `<h3>The cut-over up close</h3>${chart(summarisePolls(near, { bucketMs: 20 }), r.timeline, r.startedAt)}`;
}

function runSection(r: RehearsalResult): string {
  const events = r.timeline.filter((e) => e.t >= (r.summary.buckets[0]?.t ?? 0) && !/started|testbed up|fleet of/.test(e.what));
  return `<section>
<h2>${esc(`Embodiment ${r.options.embodiment} — ${r.options.cutover} cut-over (${r.options.routing} routing)`)} <span class="${r.ok ? 'pass' : 'fail'}">${r.ok ? 'PASS' : 'FAIL'}</span></h2>
<p>${r.options.fleetSize} appliances, each polling every ${r.options.pollIntervalMs} ms: ${r.metrics.fleetPolls} polls (${r.metrics.pollsPerSecond.toFixed(0)}/s),
<b>${r.metrics.failedPolls} failed</b>, longest gap without an answer ${ms(r.metrics.longestGapMs)};
switch → R1 route change ${ms(r.metrics.blockToRouteChangeMs)}, → first fleet poll on server 2 ${ms(r.metrics.blockToFirstServer2Ms)}.</p>
<p class="legend"><span class="sw s1"></span>server 1 <span class="sw s2"></span>server 2 <span class="sw fail"></span>failed</p>
${chart(r.summary, r.timeline, r.startedAt)}
${zoom(r)}
<ol>${events.map((e) => `<li>+${Math.round(e.t - r.startedAt)} ms — ${esc(e.what)} <small>[${esc(e.source)}]</small></li>`).join('')}</ol>
<table><tr><th>check</th><th></th><th>detail</th></tr>${r.checks.map((c) => `<tr><td>${esc(c.name)}</td><td class="${c.ok ? 'pass' : 'fail'}">${c.ok ? 'PASS' : 'FAIL'}</td><td>${esc(c.detail)}</td></tr>`).join('')}</table>
<h3>Full timeline</h3>
<table>${r.timeline.map((e) => `<tr><td>+${Math.round(e.t - r.startedAt)} ms</td><td>${esc(e.what)}</td><td>${esc(e.source)}</td></tr>`).join('')}</table>
</section>`;
}

export function reportHtml(runs: RehearsalResult[]): string {
  const ok = runs.every((r) => r.ok);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tunroute migration rehearsal</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1150px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
.pass{color:#17803d;font-weight:bold}.fail{color:#c0262d;font-weight:bold}
rect.s1{fill:#3b73b9}rect.s2{fill:#2f9e5b}rect.fail{fill:#d63c3c}
.sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}.sw.s1{background:#3b73b9}.sw.s2{background:#2f9e5b}.sw.fail{background:#d63c3c}
line.ev{stroke:#333;stroke-dasharray:3 3}text.evl{font-size:11px;text-anchor:middle}text.tick{font-size:11px;fill:#555;text-anchor:middle}text.axis{font-size:11px;fill:#555;text-anchor:end}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
</style></head><body>
<h1>Service migration rehearsal — <span class="${ok ? 'pass' : 'fail'}">${ok ? 'PASS' : 'FAIL'}</span></h1>
<p>Service address 1.1.1.1 moved from server 1 to server 2 under a polling fleet (method of JP4820780B2), rehearsed with tunroute routers in network namespaces. Generated ${esc(new Date().toISOString())}.</p>
${runs.map(runSection).join('\n')}
</body></html>
`;
}
