import test from 'node:test';
import assert from 'node:assert/strict';
import { checksum } from '../../src/wire/checksum.js';
import { Ipv4Check, Ipv4View, writeIpv4Header } from '../../src/wire/ipv4.js';
import { fragmentIpv4, IPV4_MIN_MTU } from '../../src/dataplane/fragment.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

const SRC = 0x0a000102, DST = 0xc6336407, ID = 0x4d2e;

/** Datagram with `options` bytes (padded by caller to 4) and random payload. */
function datagram(r: () => number, payloadLen: number, options: number[] = [], off = 0, ttl = 61): Uint8Array {
  const hl = 20 + options.length;
  const buf = new Uint8Array(off + hl + payloadLen + 5);
  writeIpv4Header(buf, off, hl + payloadLen, 17, SRC, DST, ttl, 0x20, ID, false);
  buf[off] = 0x40 | (hl >>> 2);
  buf.set(options, off + 20);
  for (let i = 0; i < payloadLen; i++) buf[off + hl + i] = (r() * 256) | 0;
  const v = new Ipv4View().attach(buf, off, buf.length - off);
  v.fillChecksum();
  assert.equal(v.validate(), Ipv4Check.OK);
  return buf;
}

interface Frag { off: number; len: number; hl: number; mf: boolean; fo: number; data: Uint8Array; header: Uint8Array }

/** Check every fragment is a valid datagram and collect it. */
function collect(out: Uint8Array, offs: Int32Array, lens: Int32Array, count: number, mtu: number): Frag[] {
  const v = new Ipv4View();
  const frags: Frag[] = [];
  for (let i = 0; i < count; i++) {
    v.attach(out, offs[i], lens[i]);
    assert.equal(v.validate(), Ipv4Check.OK, `fragment ${i} valid`);
    assert.equal(v.totalLength, lens[i], 'totalLength correct');
    assert.ok(lens[i] <= mtu, `fragment ${i} (${lens[i]}) <= mtu ${mtu}`);
    assert.equal(v.dontFragment, false);
    assert.equal(checksum(out, offs[i], v.headerLength), 0);
    frags.push({
      off: offs[i], len: lens[i], hl: v.headerLength, mf: v.moreFragments, fo: v.fragmentOffset,
      data: out.slice(v.payloadOffset, offs[i] + lens[i]), header: out.slice(offs[i], v.payloadOffset),
    });
  }
  return frags;
}

/** Reassemble by offset (RFC 815 style, sorting a copy) and return the payload. */
function reassemble(frags: Frag[], baseOffset = 0): { payload: Uint8Array; lastMf: boolean } {
  const sorted = [...frags].sort((a, b) => a.fo - b.fo);
  let end = 0;
  for (const f of sorted) end = Math.max(end, (f.fo - baseOffset) * 8 + f.data.length);
  const payload = new Uint8Array(end);
  const covered = new Uint8Array(end);
  for (const f of sorted) {
    const at = (f.fo - baseOffset) * 8;
    assert.ok(at >= 0);
    payload.set(f.data, at);
    covered.fill(1, at, at + f.data.length);
  }
  assert.ok(covered.every((c) => c === 1), 'no holes');
  const last = sorted[sorted.length - 1];
  return { payload, lastMf: last.mf };
}

function checkRules(frags: Frag[], origMf: boolean) {
  for (let i = 0; i < frags.length; i++) {
    const f = frags[i];
    const isLast = i === frags.length - 1;
    if (!isLast) {
      assert.equal(f.mf, true, `MF on fragment ${i}`);
      assert.equal(f.data.length % 8, 0, `fragment ${i} data multiple of 8`);
      assert.equal(frags[i + 1].fo, f.fo + f.data.length / 8, 'contiguous offsets');
      assert.equal(frags[i + 1].off, f.off + f.len, 'written back to back');
    } else {
      assert.equal(f.mf, origMf, 'last fragment keeps the original MF');
    }
    // Identification, addresses, protocol, TTL, TOS kept.
    const h = f.header;
    assert.equal((h[4] << 8) | h[5], ID);
    assert.equal(h[1], 0x20); assert.equal(h[8], 61); assert.equal(h[9], 17);
    assert.deepEqual(h.subarray(12, 20), Uint8Array.of(0x0a, 0, 1, 2, 0xc6, 0x33, 0x64, 7));
  }
}

test('1500-byte datagram at mtu 576: three fragments that reassemble byte for byte', () => {
  const r = rng(51);
  const src = datagram(r, 1480);
  const out = new Uint8Array(4000);
  const offs = new Int32Array(16), lens = new Int32Array(16);
  const n = fragmentIpv4(src, 0, 1500, 576, out, 10, 3990, offs, lens);
  assert.equal(n, 3);
  assert.deepEqual([...lens.subarray(0, 3)], [572, 572, 20 + 1480 - 552 * 2]);
  assert.equal(offs[0], 10);
  const frags = collect(out, offs, lens, n, 576);
  checkRules(frags, false);
  assert.deepEqual(frags.map((f) => f.fo), [0, 69, 138]);
  const { payload } = reassemble(frags);
  assert.deepEqual(payload, src.subarray(20, 1500));
});

test('trailing bytes after totalLength are ignored; non-zero source offset', () => {
  const r = rng(52);
  const src = datagram(r, 1000, [], 7);
  src[src.length - 1] = 0xee;
  const out = new Uint8Array(2000);
  const offs = new Int32Array(4), lens = new Int32Array(4);
  const n = fragmentIpv4(src, 7, src.length - 7, 600, out, 0, 2000, offs, lens);
  assert.equal(n, 2);
  const frags = collect(out, offs, lens, n, 600);
  checkRules(frags, false);
  assert.deepEqual(reassemble(frags).payload, src.subarray(27, 1027));
});

test('a datagram that already fits is copied as one unchanged fragment', () => {
  const r = rng(53);
  const src = datagram(r, 100);
  const out = new Uint8Array(200);
  const offs = new Int32Array(1), lens = new Int32Array(1);
  assert.equal(fragmentIpv4(src, 0, 120, 120, out, 3, 197, offs, lens), 1);
  assert.equal(offs[0], 3); assert.equal(lens[0], 120);
  assert.deepEqual(out.subarray(3, 123), src.subarray(0, 120));
});

test('options: all kept in the first fragment, only copied ones (padded with EOL) in later ones', () => {
  const r = rng(54);
  // NOP, Record Route (7, not copied), LSRR (0x83, copied), Security-like 0x82 (copied), EOL + pad.
  const opts = [
    0x01,
    0x07, 7, 4, 0, 0, 0, 0,
    0x83, 7, 4, 10, 9, 8, 7,
    0x82, 4, 0xab, 0xcd,
    0x00, 0x00, 0x00, 0x00, 0x00,
  ];
  assert.equal(opts.length % 4, 0);
  const hl = 20 + opts.length; // 44
  const src = datagram(r, 2000, opts);
  const out = new Uint8Array(5000);
  const offs = new Int32Array(10), lens = new Int32Array(10);
  const mtu = 700;
  const n = fragmentIpv4(src, 0, hl + 2000, mtu, out, 0, 5000, offs, lens);
  const frags = collect(out, offs, lens, n, mtu);
  checkRules(frags, false);
  assert.equal(frags[0].hl, hl);
  assert.deepEqual([...frags[0].header.subarray(20)], opts, 'first fragment keeps every option');
  assert.equal(frags[0].data.length, (mtu - hl) & ~7);
  const later = [0x83, 7, 4, 10, 9, 8, 7, 0x82, 4, 0xab, 0xcd, 0x00];
  for (let i = 1; i < n; i++) {
    assert.equal(frags[i].hl, 32, 'copied options 11 bytes padded to 12');
    assert.deepEqual([...frags[i].header.subarray(20)], later);
  }
  assert.equal(frags[1].data.length, (mtu - 32) & ~7);
  assert.deepEqual(reassemble(frags).payload, src.subarray(hl, hl + 2000));
});

test('options with nothing to copy: later fragments have a bare 20-byte header', () => {
  const r = rng(55);
  const opts = [0x01, 0x01, 0x07, 3, 4, 0x00, 0x00, 0x00]; // NOP NOP RR(empty) EOL
  const src = datagram(r, 1000, opts);
  const out = new Uint8Array(3000);
  const offs = new Int32Array(10), lens = new Int32Array(10);
  const n = fragmentIpv4(src, 0, 1028, 300, out, 0, 3000, offs, lens);
  const frags = collect(out, offs, lens, n, 300);
  checkRules(frags, false);
  assert.equal(frags[0].hl, 28);
  for (let i = 1; i < n; i++) assert.equal(frags[i].hl, 20);
  assert.deepEqual(reassemble(frags).payload, src.subarray(28, 1028));
});

test('fragmenting a fragment: offsets add up and MF is inherited', () => {
  const r = rng(56);
  const orig = datagram(r, 3500); // pieces of 1480, 1480 and 540 payload bytes
  const payload = orig.subarray(20, 3520);
  const out1 = new Uint8Array(8000);
  const offs1 = new Int32Array(8), lens1 = new Int32Array(8);
  const n1 = fragmentIpv4(orig, 0, 3520, 1500, out1, 0, 8000, offs1, lens1);
  assert.equal(n1, 3);
  const all: Frag[] = [];
  for (let i = 0; i < n1; i++) {
    // Re-fragment each first-level fragment at a smaller MTU on a later hop.
    const piece = out1.slice(offs1[i], offs1[i] + lens1[i]);
    const pv = new Ipv4View().attach(piece, 0, piece.length);
    const out2 = new Uint8Array(4000);
    const offs2 = new Int32Array(16), lens2 = new Int32Array(16);
    const n2 = fragmentIpv4(piece, 0, piece.length, 400, out2, 0, 4000, offs2, lens2);
    assert.ok(n2 > 1);
    const sub = collect(out2, offs2, lens2, n2, 400);
    checkRules(sub, pv.moreFragments);
    assert.equal(sub[0].fo, pv.fragmentOffset, 'first sub-fragment starts at the piece offset');
    const { payload: part } = reassemble(sub, pv.fragmentOffset);
    assert.deepEqual(part, piece.subarray(20));
    all.push(...sub);
  }
  const { payload: whole, lastMf } = reassemble(all);
  assert.equal(lastMf, false);
  assert.deepEqual(whole, payload);
});

test('minimum MTU 68 works (even with a 60-byte header); below 68 is refused', () => {
  const r = rng(57);
  assert.equal(IPV4_MIN_MTU, 68);
  let src = datagram(r, 200);
  const out = new Uint8Array(5000);
  const offs = new Int32Array(64), lens = new Int32Array(64);
  let n = fragmentIpv4(src, 0, 220, 68, out, 0, 5000, offs, lens);
  assert.equal(n, Math.ceil(200 / 48));
  let frags = collect(out, offs, lens, n, 68);
  checkRules(frags, false);
  assert.deepEqual(reassemble(frags).payload, src.subarray(20, 220));
  assert.equal(fragmentIpv4(src, 0, 220, 67, out, 0, 5000, offs, lens), -1);
  assert.equal(fragmentIpv4(src, 0, 220, 0, out, 0, 5000, offs, lens), -1);

  // 40 bytes of copied options: every fragment has a 60-byte header and 8 data bytes.
  const opts = [0x83, 39, 4, ...new Array(36).fill(1), 0x00];
  src = datagram(r, 40, opts);
  n = fragmentIpv4(src, 0, 100, 68, out, 0, 5000, offs, lens);
  assert.equal(n, 5);
  frags = collect(out, offs, lens, n, 68);
  checkRules(frags, false);
  for (const f of frags) { assert.equal(f.hl, 60); assert.equal(f.data.length, 8); }
  assert.deepEqual(reassemble(frags).payload, src.subarray(60, 100));
});

test('refusals: DF set, output too small, arrays too small, overlap, offset overflow', () => {
  const r = rng(58);
  const src = datagram(r, 1480);
  const out = new Uint8Array(4000);
  const offs = new Int32Array(8), lens = new Int32Array(8);
  // Needs 3 fragments and 1500 + 2*20 = 1540 output bytes at mtu 576.
  assert.equal(fragmentIpv4(src, 0, 1500, 576, out, 0, 1540, offs, lens), 3);
  assert.equal(fragmentIpv4(src, 0, 1500, 576, out, 0, 1539, offs, lens), -1, 'outCapacity');
  assert.equal(fragmentIpv4(src, 0, 1500, 576, out, 4000 - 1539, 4000, offs, lens), -1, 'end of out');
  assert.equal(fragmentIpv4(src, 0, 1500, 576, out, 0, 4000, new Int32Array(2), lens), -1, 'offsets array');
  assert.equal(fragmentIpv4(src, 0, 1500, 576, out, 0, 4000, offs, new Int32Array(2)), -1, 'lengths array');
  assert.equal(fragmentIpv4(src, 0, 1499, 576, out, 0, 4000, offs, lens), -1, 'srcLen < totalLength');
  const big = new Uint8Array(8000);
  big.set(src.subarray(0, 1500), 0);
  assert.equal(fragmentIpv4(big, 0, 1500, 576, big, 1000, 4000, offs, lens), -1, 'overlapping output');
  assert.equal(fragmentIpv4(big, 0, 1500, 576, big, 1500, 4000, offs, lens), 3, 'adjacent is fine');

  const df = Uint8Array.from(src);
  df[6] |= 0x40;
  new Ipv4View().attach(df, 0, 1500).fillChecksum();
  const before = Uint8Array.from(out);
  assert.equal(fragmentIpv4(df, 0, 1500, 576, out, 0, 4000, offs, lens), -1, 'DF must not be fragmented');
  assert.deepEqual(out, before, 'nothing written');

  const late = Uint8Array.from(src);
  late[6] = 0x1f; late[7] = 0xf0; // offset 8176 units: 65408 + 1480 > 2^16
  new Ipv4View().attach(late, 0, 1500).fillChecksum();
  assert.equal(fragmentIpv4(late, 0, 1500, 576, out, 0, 4000, offs, lens), -1, '13-bit offset overflow');
});

test('fuzz: random sizes, MTUs, options and offsets reassemble exactly', () => {
  const r = rng(59);
  const out = new Uint8Array(20000);
  const offs = new Int32Array(200), lens = new Int32Array(200);
  const optionSets: number[][] = [
    [],
    [0x01, 0x01, 0x01, 0x00],
    [0x83, 7, 4, 1, 2, 3, 4, 0x00],
    [0x07, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x01],
    [0x94, 4, 0, 0], // Router Alert: copied
    [0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x89, 7, 4, 9, 9, 9, 9, 0x01], // timestamp + SSRR
  ];
  for (let k = 0; k < 1500; k++) {
    const opts = optionSets[(r() * optionSets.length) | 0];
    const plen = 1 + ((r() * 9000) | 0);
    const src = datagram(r, plen, opts);
    const hl = 20 + opts.length;
    const mtu = 68 + ((r() * 1500) | 0);
    const outOff = (r() * 100) | 0;
    const n = fragmentIpv4(src, 0, hl + plen, mtu, out, outOff, out.length - outOff, offs, lens);
    assert.ok(n >= 1, `k=${k} plen=${plen} mtu=${mtu}`);
    const frags = collect(out, offs, lens, n, Math.max(mtu, n === 1 ? hl + plen : 0));
    if (n > 1) checkRules(frags, false);
    assert.deepEqual(reassemble(frags).payload, src.subarray(hl, hl + plen));
  }
});
