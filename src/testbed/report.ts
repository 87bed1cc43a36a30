// The rehearsal report: text for the terminal (timeline, verdict, costs, the
// modes compared), and a self-contained HTML page a change board can read
// (inline SVG, no scripts or external files): the modes compared, polls per
// interval answered by the old server / the new one / failed with the
// events marked, the cut-over up close, each process's cost, the failed
// polls, and the version, lab, rehearsal options and configs used. Built
// from the streamed summary, so its size does not grow with the number of
// polls.
import type { PollBucket, PollSummary } from '../hosts/aggregation.js';
import type { CostReport } from './proc-stats.js';
import { ACCESS_LOGS_KEPT, DEFAULT_BFD_INTERVAL_MS } from './migration.js';
import { DEFAULT_LOG_MAX_BYTES, DEFAULT_POLL_TIMEOUT_MS, FAILURES_KEPT, FLEET_JITTER, type RehearsalResult, type TimelineEntry } from './rehearsal.js';

const ms = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${Math.round(n)} ms`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** How a run was set up, in one line. */
function setupLine(r: RehearsalResult): string {
  const o = r.options;
  const fleet = o.day
    ? `${int(o.fleetSize)} appliances, each polling once in a day of ${duration(o.pollIntervalMs)} (${int((o.fleetSize * 1000) / o.pollIntervalMs)} polls/s)`
    : `${int(o.fleetSize)} appliances every ${duration(o.pollIntervalMs)} (${int((o.fleetSize * 1000) / o.pollIntervalMs)} polls/s)`;
  return `${r.lab.name}, ${o.cutover} cut-over: ${fleet}`;
}

function duration(msv: number): string {
  if (msv < 1000) return `${msv} ms`;
  if (msv < 60_000) return `${+(msv / 1000).toFixed(1)} s`;
  if (msv < 3_600_000) return `${+(msv / 60_000).toFixed(1)} min`;
  return `${+(msv / 3_600_000).toFixed(1)} h`;
}

export function timelineText(r: RehearsalResult): string {
  const m = r.metrics;
  const to = r.lab.servers.to;
  const lines = [
    `Rehearsal: ${setupLine(r)}`,
    '',
    '  ms since start  event',
    ...r.timeline.map((e) => `  ${String(Math.round(e.t - r.startedAt)).padStart(14)}  ${e.what}  [${e.source}]`),
    '',
    `  fleet polls ${int(m.fleetPolls)}${m.expectedPolls !== null ? ` of ${int(m.expectedPolls)}` : ''} (${m.pollsPerSecond.toFixed(0)}/s), failed ${int(m.failedPolls)}, longest gap without an answer ${ms(m.longestGapMs)}, latency p50 ${ms(m.latencyP50Ms)} p99 ${ms(m.latencyP99Ms)}`,
    `  test poll at ${to} → ${r.options.cutover === 'drain' ? 'drain start' : 'port blocked'} ${ms(m.historyToBlockMs)}, → route change ${ms(m.blockToRouteChangeMs)}, → first fleet poll answered by ${to} ${ms(m.blockToFirstServer2Ms)}`,
    `  after the switch: ${int(m.answeredByNewAfterSwitch)} of ${int(m.sentAfterSwitch)} polls answered by ${to}; lost: ${m.lostInFlight} in flight at the switch, ${m.lostAfterSwitch} sent after it`,
    `  access logs: ${Object.entries(r.accessLogs).map(([s, a]) => `${s} ${int(a.lines)} lines in ${a.files} file${a.files === 1 ? '' : 's'}`).join(', ')}`,
    '',
    costsText(r.costs),
    '',
    ...r.checks.map((c) => `  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`),
    `  VERDICT: ${r.ok ? 'PASS' : 'FAIL'}`,
  ];
  return lines.join('\n');
}

/** Each process's CPU and peak memory, and the machine's CPU split over the same time. */
export function costsText(c: CostReport): string {
  const rows = c.processes.map((p) => `  ${p.name.padEnd(10)} ${p.role.padEnd(8)} ${p.cpuS.toFixed(2).padStart(8)} ${p.userS.toFixed(2).padStart(7)} ${p.sysS.toFixed(2).padStart(7)} ${(p.cpuSPer1000Polls?.toFixed(3) ?? '—').padStart(10)} ${String(p.peakRssMb).padStart(8)}`);
  const mc = c.machine;
  const total = mc.user + mc.system + mc.softirq + mc.irq + mc.idle + mc.iowait + mc.steal || 1;
  const pct = (n: number) => `${((100 * n) / total).toFixed(0)}%`;
  return [
    `  costs over ${c.windowS} s of polling (CPU seconds; per 1,000 fleet polls; peak resident memory)`,
    '  process    role        CPU s    user     sys  s/1000 polls  peak MB',
    ...rows,
    `  machine (${mc.cpus} CPUs, shared): user ${pct(mc.user)}, system ${pct(mc.system)}, softirq ${pct(mc.softirq)}, idle ${pct(mc.idle)}, steal ${pct(mc.steal)}; `
      + `the rehearsal's processes ${ours(c).toFixed(1)} CPU s, other work ${others(c).toFixed(1)} CPU s`,
  ].join('\n');
}

/** CPU seconds of the rehearsal's own processes. */
function ours(c: CostReport): number {
  return c.processes.reduce((a, p) => a + p.cpuS, 0);
}

/** CPU seconds the machine spent on anything else in the same time (other users of a shared machine; kernel work charged to no process). */
function others(c: CostReport): number {
  const mc = c.machine;
  return Math.max(0, mc.user + mc.system + mc.softirq + mc.irq - ours(c));
}

export function comparisonText(runs: RehearsalResult[]): string {
  if (runs.length < 2) return '';
  const rows = runs.map((r) => `  ${r.options.cutover.padEnd(6)} ${int(r.metrics.fleetPolls).padStart(10)} ${int(r.metrics.failedPolls).padStart(7)} ${String(r.metrics.lostInFlight).padStart(9)} ${ms(r.metrics.longestGapMs).padStart(12)} ${ms(r.metrics.blockToRouteChangeMs).padStart(20)} ${ms(r.metrics.blockToFirstServer2Ms).padStart(24)}`);
  return ['Cut-over modes compared', '  mode        polls  failed  in flight  longest gap  switch→route change  switch→first new answer', ...rows].join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A "nice" step (1, 2 or 5 × 10^n) at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Time ticks for a span of `spanMs`: about six, at round seconds or minutes. */
function timeStep(spanMs: number): number {
  const steps = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];
  return steps.find((s) => spanMs / s <= 8) ?? 3_600_000;
}

function tickLabel(msSinceStart: number, step: number): string {
  if (step >= 60_000) return `${Math.floor(msSinceStart / 60_000)}:${String(Math.round((msSinceStart % 60_000) / 1000)).padStart(2, '0')}`;
  return step >= 1000 ? `${Math.round(msSinceStart / 1000)} s` : `${(msSinceStart / 1000).toFixed(1)} s`;
}

/** At most `max` bars: neighbours merged (bars of a long run are seconds wide, not 100 ms). */
function mergeBuckets(buckets: PollBucket[], bucketMs: number, max: number): { buckets: PollBucket[]; bucketMs: number } {
  const f = Math.ceil(buckets.length / max);
  if (f <= 1) return { buckets, bucketMs };
  const out: PollBucket[] = [];
  for (let i = 0; i < buckets.length; i += f) {
    const m: PollBucket = { t: buckets[i]!.t, byServer: {}, failed: 0 };
    for (const b of buckets.slice(i, i + f)) {
      m.failed += b.failed;
      for (const [s, n] of Object.entries(b.byServer)) m.byServer[s] = (m.byServer[s] ?? 0) + n;
    }
    out.push(m);
  }
  return { buckets: out, bucketMs: bucketMs * f };
}

interface Marker {
  t: number;
  n: number;
}

/**
 * Stacked bars of polls per bucket (old server / new server / failed), axes
 * with ticks, and the numbered events: events closer than a label's width
 * share one line and one label ("3–5"), and labels that would still touch
 * go to a second or third row.
 */
function chart(summary: PollSummary, servers: { from: string; to: string }, markers: Marker[], startedAt: number, title: string): string {
  if (summary.buckets.length === 0) return '<p>No polls were recorded.</p>';
  const W = 1100;
  const H = 280;
  const pad = { l: 56, r: 12, t: 46, b: 44 };
  const { buckets, bucketMs } = mergeBuckets(summary.buckets, summary.bucketMs, 550);
  const t0 = buckets[0]!.t;
  const t1 = buckets.at(-1)!.t + bucketMs;
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const top = Math.max(1, ...buckets.map((b) => Object.values(b.byServer).reduce((a, n) => a + n, 0) + b.failed));
  const yStep = niceStep(top / 4);
  const maxY = Math.ceil(top / yStep) * yStep;
  const y = (n: number) => H - pad.b - (n / maxY) * (H - pad.t - pad.b);
  const bw = Math.max(0.6, x(t0 + bucketMs) - x(t0) - (buckets.length > 200 ? 0 : 0.5));
  // One path per series: a bar is "M x y h w v h h -w z" (compact at hundreds of bars).
  const series: [string, (b: PollBucket) => number][] = [
    ['s1', (b) => b.byServer[servers.from] ?? 0],
    ['s2', (b) => b.byServer[servers.to] ?? 0],
    ['other', (b) => Object.entries(b.byServer).reduce((a, [s, n]) => (s === servers.from || s === servers.to ? a : a + n), 0)],
    ['fail', (b) => b.failed],
  ];
  const paths: string[] = [];
  const base = new Float64Array(buckets.length);
  for (const [cls, value] of series) {
    let d = '';
    buckets.forEach((b, i) => {
      const n = value(b);
      if (n === 0) return;
      const y0 = y(base[i]!);
      const y1 = y(base[i]! + n);
      d += `M${x(b.t).toFixed(1)} ${y1.toFixed(1)}h${bw.toFixed(1)}v${(y0 - y1).toFixed(1)}h${(-bw).toFixed(1)}z`;
      base[i] = base[i]! + n;
    });
    if (d) paths.push(`<path class="${cls}" d="${d}"/>`);
  }
  const axes: string[] = [`<line class="axis" x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}"/><line class="axis" x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${H - pad.b}"/>`];
  for (let v = 0; v <= maxY; v += yStep) {
    axes.push(`<line class="grid" x1="${pad.l}" x2="${W - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="ylab" x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}">${int(v)}</text>`);
  }
  const step = timeStep(t1 - t0);
  for (let t = Math.ceil((t0 - startedAt) / step) * step + startedAt; t <= t1; t += step) {
    axes.push(`<line class="axis" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${H - pad.b}" y2="${H - pad.b + 5}"/><text class="tick" x="${x(t).toFixed(1)}" y="${H - pad.b + 18}">${tickLabel(t - startedAt, step)}</text>`);
  }
  // Events: clusters of markers closer than 16 px share a line and a label.
  const inside = markers.filter((m) => m.t >= t0 && m.t <= t1).sort((a, b) => a.t - b.t);
  const clusters: Marker[][] = [];
  for (const m of inside) {
    const last = clusters.at(-1);
    if (last && x(m.t) - x(last[0]!.t) < 16) last.push(m);
    else clusters.push([m]);
  }
  const rowEnd = [-Infinity, -Infinity, -Infinity];
  const marks = clusters.map((c) => {
    const xx = x(c[0]!.t);
    const label = c.length === 1 ? String(c[0]!.n) : consecutive(c.map((m) => m.n)) ? `${c[0]!.n}–${c.at(-1)!.n}` : c.map((m) => m.n).join(',');
    const w = 7 * label.length + 6;
    let row = rowEnd.findIndex((end) => xx - w / 2 > end);
    if (row < 0) row = rowEnd.indexOf(Math.min(...rowEnd));
    rowEnd[row] = xx + w / 2;
    return `<line class="ev" x1="${xx.toFixed(1)}" x2="${xx.toFixed(1)}" y1="${pad.t - 4 - row * 13}" y2="${H - pad.b}"/><text class="evl" x="${xx.toFixed(1)}" y="${pad.t - 8 - row * 13}">${label}</text>`;
  });
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">
${axes.join('')}${paths.join('')}${marks.join('')}
<text class="tick" x="${(pad.l + W - pad.r) / 2}" y="${H - 6}">time since the rehearsal started (send time; polls per ${duration(bucketMs)})</text>
<text class="ylab" x="${pad.l - 6}" y="${pad.t - 30}">polls</text></svg>`;
}

function consecutive(ns: number[]): boolean {
  return ns.every((n, i) => i === 0 || n === ns[i - 1]! + 1);
}

/** Events worth marking on the charts (not the set-up ones), numbered in time order. */
function markedEvents(r: RehearsalResult): (TimelineEntry & { n: number })[] {
  return r.timeline.filter((e) => !/rehearsal started|lab up|starts polling|day is over|fleet stopped/.test(e.what)).map((e, i) => ({ ...e, n: i + 1 }));
}

function costsTable(c: CostReport): string {
  const mc = c.machine;
  const total = mc.user + mc.system + mc.softirq + mc.irq + mc.idle + mc.iowait + mc.steal || 1;
  const pct = (n: number) => `${((100 * n) / total).toFixed(0)} %`;
  return `<table class="num"><tr><th>process</th><th>role</th><th>CPU s</th><th>user</th><th>kernel</th><th>CPU s per 1,000 polls</th><th>peak RSS MB</th></tr>
${c.processes.map((p) => `<tr><td>${esc(p.name)}</td><td>${esc(p.role)}</td><td>${p.cpuS.toFixed(2)}</td><td>${p.userS.toFixed(2)}</td><td>${p.sysS.toFixed(2)}</td><td>${p.cpuSPer1000Polls?.toFixed(3) ?? '—'}</td><td>${p.peakRssMb}</td></tr>`).join('')}
</table>
<p class="small">Over ${c.windowS} s of polling. The machine (${mc.cpus} CPUs, shared with other work): user ${pct(mc.user)}, kernel ${pct(mc.system)}, softirq ${pct(mc.softirq)}, idle ${pct(mc.idle)}, steal ${pct(mc.steal)};
the rehearsal's processes used ${ours(c).toFixed(1)} CPU s, everything else ${others(c).toFixed(1)} CPU s.</p>`;
}

function comparisonTable(runs: RehearsalResult[]): string {
  const to = runs[0]!.lab.servers.to;
  return `<h2>Cut-over modes compared</h2>
<table class="num"><tr><th>mode</th><th>verdict</th><th>fleet polls</th><th>failed</th><th>in flight at the switch (lost)</th><th>sent after the switch (lost)</th><th>longest gap without an answer</th><th>switch → route change</th><th>switch → first answer from ${esc(to)}</th><th>latency p50 / p99</th></tr>
${runs.map((r) => {
  const m = r.metrics;
  return `<tr><td>${esc(r.options.cutover)}</td><td class="${r.ok ? 'pass' : 'fail'}">${r.ok ? 'PASS' : 'FAIL'}</td><td>${int(m.fleetPolls)}</td><td>${int(m.failedPolls)}</td><td>${m.lostInFlight}</td><td>${m.lostAfterSwitch}</td><td>${ms(m.longestGapMs)}</td><td>${ms(m.blockToRouteChangeMs)}</td><td>${ms(m.blockToFirstServer2Ms)}</td><td>${ms(m.latencyP50Ms)} / ${ms(m.latencyP99Ms)}</td></tr>`;
}).join('\n')}
</table>`;
}

/** Where the failed polls are: the first 20 here, up to FAILURES_KEPT in report.json, every one in the poll records. */
function failedPollsWhere(r: RehearsalResult): string {
  const kept = r.summary.failures.length;
  const notKept = r.summary.failuresNotKept;
  const here = kept > 20 ? 'The first 20 below; ' : '';
  const json = notKept > 0 ? `report.json holds the first ${int(kept)} (its limit), the other ${int(notKept)} are counted only` : `report.json holds all ${int(kept)}`;
  return esc(`${here}${json}; every one is a line of ${r.files.fleetRecords}.`);
}

function runSection(r: RehearsalResult, i: number): string {
  const m = r.metrics;
  const { from, to } = r.lab.servers;
  const events = markedEvents(r);
  const markers = events.map((e) => ({ t: e.t, n: e.n }));
  const failures = r.summary.failures;
  const stats = Object.entries(r.routerStats).map(([name, v]) => {
    const s = v as { stats?: { flows?: Record<string, number> }; nat?: Record<string, number> | null };
    const flows = s.stats?.flows ? Object.entries(s.stats.flows).map(([k, n]) => `${k} ${int(n)}`).join(', ') : '—';
    const nat = s.nat ? Object.entries(s.nat).map(([k, n]) => `${k} ${typeof n === 'number' ? int(n) : esc(String(n))}`).join(', ') : '';
    return `<tr><td>${esc(name)}</td><td>${esc(flows)}</td><td>${esc(nat) || '—'}</td></tr>`;
  }).join('');
  return `<section id="run${i}">
<h2>${esc(`${r.options.cutover === 'block' ? 'Hard block' : 'Drain'} — ${r.lab.name}`)} <span class="${r.ok ? 'pass' : 'fail'}">${r.ok ? 'PASS' : 'FAIL'}</span></h2>
<p>${esc(setupLine(r))}. ${int(m.fleetPolls)} fleet polls${m.expectedPolls !== null ? ` of ${int(m.expectedPolls)} expected` : ''} (${m.pollsPerSecond.toFixed(0)}/s),
<b>${int(m.failedPolls)} failed</b> (${m.lostInFlight} in flight at the switch, ${m.lostAfterSwitch} sent after it), longest gap without an answer ${ms(m.longestGapMs)},
latency p50 ${ms(m.latencyP50Ms)}, p99 ${ms(m.latencyP99Ms)}. After the switch ${int(m.answeredByNewAfterSwitch)} of ${int(m.sentAfterSwitch)} polls were answered by ${esc(to)};
switch → route change ${ms(m.blockToRouteChangeMs)}, → first fleet poll answered by ${esc(to)} ${ms(m.blockToFirstServer2Ms)}.</p>
<p class="legend"><span class="sw s1"></span>${esc(from)} <span class="sw s2"></span>${esc(to)} <span class="sw fail"></span>failed</p>
${chart(r.summary, r.lab.servers, markers, r.startedAt, 'fleet polls over the whole run')}
${r.zoom ? `<h3>The cut-over up close (1 s before the switch to 2 s after it)</h3>${chart(r.zoom, r.lab.servers, markers, r.startedAt, 'fleet polls around the switch')}` : ''}
<ol class="events">${events.map((e) => `<li value="${e.n}">+${int(e.t - r.startedAt)} ms — ${esc(e.what)} <small>[${esc(e.source)}]</small></li>`).join('')}</ol>
<table><tr><th>check</th><th></th><th>detail</th></tr>${r.checks.map((c) => `<tr><td>${esc(c.name)}</td><td class="${c.ok ? 'pass' : 'fail'}">${c.ok ? 'PASS' : 'FAIL'}</td><td>${esc(c.detail)}</td></tr>`).join('')}</table>
<h3>What each process cost</h3>
${costsTable(r.costs)}
<h3>Failed polls</h3>
${failures.length === 0 ? '<p>None.</p>' : `<p>${int(r.summary.failed)} failed: ${esc(Object.entries(r.summary.errors).map(([e, n]) => `${e} ${int(n)}`).join(', '))}. ${failedPollsWhere(r)}</p>
<table class="num"><tr><th>sent (ms since start)</th><th>device</th><th>source</th><th>error</th><th>after ms</th></tr>${failures.slice(0, 20).map((f) => `<tr><td>+${int(f.t - r.startedAt)}</td><td>${esc(f.device)}</td><td>${esc(f.source)}</td><td>${esc(f.error ?? `HTTP ${f.status}`)}</td><td>${f.latencyMs}</td></tr>`).join('')}</table>`}
<h3>Access logs and router tables</h3>
<p>${Object.entries(r.accessLogs).map(([s, a]) => `${esc(s)}: ${int(a.lines)} history lines in ${a.files} file${a.files === 1 ? '' : 's'}`).join('; ')}.</p>
<table><tr><th>router</th><th>drain flow table</th><th>NAT</th></tr>${stats}</table>
<h3>Full timeline</h3>
<table>${r.timeline.map((e) => `<tr><td>+${int(e.t - r.startedAt)} ms</td><td>${esc(e.what)}</td><td>${esc(e.source)}</td></tr>`).join('')}</table>
<p class="small">Files: <a href="${esc(r.files.fleetRecords)}">${esc(r.files.fleetRecords)}</a> (every fleet poll, one JSON line each), <a href="${esc(r.files.testRecords)}">${esc(r.files.testRecords)}</a>, <a href="${esc(r.files.fleetStatus)}">${esc(r.files.fleetStatus)}</a>.</p>
</section>`;
}

/** What the rehearsal ran with, per run: the options the demo was given (or their defaults). */
export function rehearsalOptions(r: RehearsalResult): [string, string][] {
  const o = r.options;
  const rows: [string, string][] = [
    ['lab', o.lab.kind === 'built-in' ? `built in: embodiment ${o.lab.embodiment}, ${o.lab.routing} routing` : `topology ${o.lab.file}${o.lab.containers ? `, routers as containers (${o.lab.containers.image ? `image ${o.lab.containers.image}` : 'image built from this checkout'})` : ''}`],
    ['cut-over', `${o.cutover} (${r.lab.cutover.router} port ${r.lab.cutover.port})`],
    ['fleet', `${int(o.fleetSize)} appliances, each its own source address`],
    ['polling', o.day
      ? `once each, at a random moment of a day of ${duration(o.pollIntervalMs)}; the cut-over at mid-day`
      : `every ${duration(o.pollIntervalMs)} (±${FLEET_JITTER * 100} % jitter); ${duration(o.warmupMs)} of polling before the test appliance starts, ${duration(o.afterMs)} after the cut-over`],
    ['poll timeout', duration(o.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS)],
  ];
  if (o.lab.kind === 'built-in') {
    rows.push(
      ['server delay', `${duration(o.lab.serverDelayMs)} (each server answers a poll after this long)`],
      ['BFD interval', `${duration(o.lab.bfdIntervalMs ?? DEFAULT_BFD_INTERVAL_MS)} (×3 to detect a silent peer)`],
      ['access logs', `rotated at ${int(o.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES)} bytes, up to ${int(ACCESS_LOGS_KEPT)} rotated files kept`],
    );
  } else {
    rows.push(['servers, BFD, access logs', 'as the topology file sets them (its configs below)']);
  }
  return rows;
}

function optionsTable(runs: RehearsalResult[]): string {
  if (runs.length === 0) return '';
  const rows = runs.map(rehearsalOptions);
  const head = runs.length > 1 ? `<tr><th>option</th>${runs.map((r) => `<th>${esc(r.options.cutover)}</th>`).join('')}</tr>` : '';
  return `<table class="options">${head}${rows[0]!.map(([name], i) => `<tr><th>${esc(name)}</th>${rows.map((row) => `<td>${esc(row[i]![1])}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function reportHtml(runs: RehearsalResult[]): string {
  const ok = runs.every((r) => r.ok);
  const first = runs[0];
  const v = first?.version;
  const configs = first?.lab.configs ?? [];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tunroute migration rehearsal</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1150px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1.05em}
.pass{color:#17803d;font-weight:bold}.fail{color:#c0262d;font-weight:bold}
path.s1{fill:#3b73b9}path.s2{fill:#2f9e5b}path.other{fill:#999}path.fail{fill:#d63c3c}
.sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}.sw.s1{background:#3b73b9}.sw.s2{background:#2f9e5b}.sw.fail{background:#d63c3c}
line.axis{stroke:#555}line.grid{stroke:#e4e4e4}line.ev{stroke:#333;stroke-dasharray:3 3}
text.evl{font-size:11px;text-anchor:middle;font-weight:bold}text.tick{font-size:11px;fill:#555;text-anchor:middle}text.ylab{font-size:11px;fill:#555;text-anchor:end}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}table.num td{text-align:right}table.num td:first-child{text-align:left}
.small{font-size:12px;color:#555}ol.events{columns:2}pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px}
</style></head><body>
<h1>Service migration rehearsal — <span class="${ok ? 'pass' : 'fail'}">${ok ? 'PASS' : 'FAIL'}</span></h1>
<p>The service address ${esc(first?.lab.service ?? '')} moved from ${esc(first?.lab.servers.from ?? '')} to ${esc(first?.lab.servers.to ?? '')} under a polling fleet (method of JP4820780B2), rehearsed with tunroute routers in network namespaces.</p>
<table><tr><th>lab</th><td>${esc(first?.lab.name ?? '')}${first?.lab.file ? ` — ${esc(first.lab.file)}` : ' (built in)'}</td></tr>
<tr><th>cut-over</th><td>${runs.map((r) => `${esc(r.options.cutover)}: ${esc(r.lab.cutover.router)} port ${esc(r.lab.cutover.port)}`).join('; ')}${first?.lab.fallback ? `; fall-back watched on ${esc(first.lab.fallback.router)}${first.lab.fallback.source === 'kernel' ? '\'s kernel' : ''} (old port ${esc(first.lab.fallback.oldPort)})` : ''}</td></tr>
<tr><th>version</th><td>tunroute ${esc(v?.tunroute ?? '?')}${v?.commit ? ` (${esc(v.commit)})` : ''}, Node ${esc(v?.node ?? '?')}</td></tr>
<tr><th>generated</th><td>${esc(new Date().toISOString())}</td></tr>
<tr><th>data</th><td><a href="report.json">report.json</a> (per-interval series, events, the failed polls — up to ${int(FAILURES_KEPT)} per run kept whole, the rest counted —, costs); every poll, failed ones included, is in the run's poll records below</td></tr></table>
${runs.length > 1 ? comparisonTable(runs) : ''}
${runs.map(runSection).join('\n')}
<h2>Configuration used</h2>
<h3>The rehearsal</h3>
${optionsTable(runs)}
<h3>The files the lab was built from</h3>
${configs.map((c) => `<details><summary>${esc(c.name)} — ${esc(c.file)}</summary><pre>${esc(c.text)}</pre></details>`).join('\n')}
</body></html>
`;
}
