// The report a change board reads: the modes compared in the page, events
// close together sharing one marker instead of piling up, axis ticks, links
// to the data, the version, the options and configs, and a size that does
// not grow with the number of polls (a million-poll run is a series, not
// records).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportHtml, timelineText } from '../../src/testbed/report.js';
import { rehearsalResult as run } from './rehearsal-result.js';

test('report.html: the modes compared, markers that do not pile up, axis ticks, links, version and configs', () => {
  const html = reportHtml([run('block', 20_000, 60), run('drain', 20_000, 60)]);
  assert.match(html, /<h2>Cut-over modes compared<\/h2>/);
  assert.match(html, /<tr><td>block<\/td><td class="pass">PASS<\/td><td>20,000<\/td>/);
  assert.match(html, /<tr><td>drain<\/td>/);
  // Events 1–4 fall within 4 ms: one marker labelled "1–4" on the whole-run chart, not four labels on top of each other.
  assert.match(html, />1–4<\/text>/);
  assert.doesNotMatch(html.split('<h3>The cut-over up close')[0]!, />2<\/text>/);
  // Axis ticks: seconds along the bottom, counts up the side.
  assert.match(html, /<text class="tick"[^>]*>10 s<\/text>/);
  assert.match(html, /<text class="ylab"[^>]*>0<\/text>/);
  assert.match(html, /href="report\.json"/);
  assert.match(html, /href="fleet-drain\.jsonl"/);
  assert.match(html, /tunroute 0\.1\.0 \(abc1234\)/);
  assert.match(html, /<summary>r1 — \/tmp\/r1\.json<\/summary><pre>\{ &quot;router&quot;: &quot;r1&quot; \}<\/pre>/);
  assert.match(html, /server1: 10,000 history lines in 3 files/);
  assert.match(timelineText(run('drain', 1000, 10)), /VERDICT: PASS/);
});

test('report.html: the rehearsal options it ran with, per run, the defaults spelled out', () => {
  const block = run('block', 2000, 60);
  const drain = run('drain', 2000, 60);
  drain.options = { ...drain.options, lab: { kind: 'built-in', embodiment: '1', routing: 'rip', serverDelayMs: 20, bfdIntervalMs: 1000 }, pollTimeoutMs: 3000, logMaxBytes: 1_000_000 };
  const html = reportHtml([block, drain]);
  const options = html.split('<h3>The rehearsal</h3>')[1]!.split('<h3>The files the lab was built from</h3>')[0]!;
  assert.match(options, /<tr><th>option<\/th><th>block<\/th><th>drain<\/th><\/tr>/);
  assert.match(options, /<tr><th>lab<\/th><td>built in: embodiment 1, rip routing<\/td>/);
  assert.match(options, /<tr><th>cut-over<\/th><td>block \(r1 port r2\)<\/td><td>drain \(r1 port r2\)<\/td><\/tr>/);
  assert.match(options, /<tr><th>fleet<\/th><td>2,000 appliances, each its own source address<\/td>/);
  assert.match(options, /<tr><th>polling<\/th><td>once each, at a random moment of a day of 1 min; the cut-over at mid-day<\/td>/);
  assert.match(options, /<tr><th>poll timeout<\/th><td>2 s<\/td><td>3 s<\/td><\/tr>/);
  assert.match(options, /<tr><th>server delay<\/th><td>50 ms \(each server answers a poll after this long\)<\/td><td>20 ms /);
  assert.match(options, /<tr><th>BFD interval<\/th><td>100 ms \(×3 to detect a silent peer\)<\/td><td>1 s /);
  assert.match(options, /<tr><th>access logs<\/th><td>rotated at 64,000,000 bytes, up to 10,000 rotated files kept<\/td><td>rotated at 1,000,000 bytes/);

  const every = { ...block, options: { ...block.options, day: false, pollIntervalMs: 10_000, warmupMs: 5000, afterMs: 12_000, lab: { kind: 'topology' as const, file: 'topologies/tun-only/tun-only.clab.yml' } } };
  const one = reportHtml([every]).split('<h3>The rehearsal</h3>')[1]!;
  assert.doesNotMatch(one, /<th>option<\/th>/);
  assert.match(one, /<tr><th>lab<\/th><td>topology topologies\/tun-only\/tun-only\.clab\.yml<\/td>/);
  assert.match(one, /<tr><th>polling<\/th><td>every 10 s \(±20 % jitter\); 5 s of polling before the test appliance starts, 12 s after the cut-over<\/td>/);
  assert.match(one, /<tr><th>servers, BFD, access logs<\/th><td>as the topology file sets them/);
});

test('report.html says where the failed polls are: all in report.json, or the first ones and the rest counted; every one in the poll records', () => {
  const block = run('block', 60_000, 60);
  assert.ok(block.summary.failed > 20 && block.summary.failed < 1000, `${block.summary.failed} failed`);
  assert.match(reportHtml([block]), new RegExp(`The first 20 below; report.json holds all ${block.summary.failed}; every one is a line of fleet-block\\.jsonl\\.`));
  const capped = { ...block, summary: { ...block.summary, failures: block.summary.failures.slice(0, 20), failuresNotKept: block.summary.failed - 20 } };
  assert.match(reportHtml([capped]), new RegExp(`report.json holds the first 20 \\(its limit\\), the other ${block.summary.failed - 20} are counted only`));
  assert.match(reportHtml([capped]), /up to 20,000 per run kept whole, the rest counted/);
});

test('report.html does not grow with the number of polls', () => {
  const small = reportHtml([run('drain', 10_000, 600)]).length;
  const large = reportHtml([run('drain', 1_000_000, 600)]).length;
  assert.ok(large < small * 1.2, `10k polls: ${small} bytes, 1M polls: ${large} bytes`);
  assert.ok(large < 150_000, `${large} bytes`);
});
