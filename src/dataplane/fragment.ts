// IPv4 fragmentation (RFC 791 §2.3 "Fragmentation", §3.2 "An Example
// Fragmentation Procedure"; RFC 1812 §5.2.6/§4.2.2.7).
//
// One element: a validated datagram in, fragments out, written back to back
// into a caller-owned buffer. No allocation.

import { checksum } from '../wire/checksum.js';
import { IPV4_HEADER_LEN, copyBytes } from '../wire/ipv4.js';

/** RFC 791 §3.1: every internet module must forward 68 octets unfragmented. */
export const IPV4_MIN_MTU = 68;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;
const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_COPIED = 0x80;

/**
 * The option bytes that must be copied into every fragment (option type has
 * the copied flag, RFC 791 §3.1), unpadded: their length, and written to
 * out[o] when `out` is given. Parsing stops at EOL or at a malformed option
 * (nothing after it is copied).
 */
function copiedOptions(b: Uint8Array, off: number, hl: number, out: Uint8Array | null, o: number): number {
  let n = 0;
  let i = off + IPV4_HEADER_LEN;
  const end = off + hl;
  while (i < end) {
    const t = b[i];
    if (t === OPT_EOL) break;
    if (t === OPT_NOP) { i++; continue; }
    if (i + 1 >= end) break;
    const l = b[i + 1];
    if (l < 2 || i + l > end) break;
    if (t & OPT_COPIED) {
      if (out !== null) for (let k = 0; k < l; k++) out[o + n + k] = b[i + k];
      n += l;
    }
    i += l;
  }
  return n;
}

/** Finish a fragment header at out[o]: IHL, total length, flags/offset, checksum. */
function finishHeader(out: Uint8Array, o: number, hl: number, total: number, flagsWord: number): void {
  out[o] = 0x40 | (hl >>> 2);
  out[o + 2] = total >>> 8;
  out[o + 3] = total;
  out[o + 6] = flagsWord >>> 8;
  out[o + 7] = flagsWord;
  out[o + 10] = 0;
  out[o + 11] = 0;
  const c = checksum(out, o, hl);
  out[o + 10] = c >>> 8;
  out[o + 11] = c;
}

/**
 * Split the IPv4 datagram src[srcOff, srcOff+srcLen) (already validated;
 * totalLength is used, trailing bytes ignored) into fragments of at most
 * `mtu` bytes, written one after another into out from outOff, using at most
 * outCapacity bytes. fragOffsets[i] / fragLengths[i] receive each fragment's
 * absolute offset in out and its length. Returns the fragment count (1 if the
 * datagram already fits: it is copied unchanged), or -1 if:
 * mtu < 68 or cannot carry 8 data bytes per fragment; DF is set (a router
 * must not fragment it: send FRAG_NEEDED instead); out, outCapacity or the
 * arrays are too small; the result would overflow the 13-bit offset; or
 * src and out overlap.
 *
 * Rules (RFC 791): data per fragment is a multiple of 8 bytes except in the
 * last; the first fragment keeps all options, later ones only those with
 * the copied flag, padded with EOL to a 4-byte boundary; MF is set on all
 * but the last, which keeps the original's MF, and offsets are relative to
 * the original's offset (so a fragment can be fragmented again);
 * identification, TOS, TTL, protocol and addresses are kept.
 */
export function fragmentIpv4(
  src: Uint8Array, srcOff: number, srcLen: number, mtu: number,
  out: Uint8Array, outOff: number, outCapacity: number,
  fragOffsets: Int32Array, fragLengths: Int32Array,
  /** Free bytes left in front of every fragment (room for a link header). */
  gap = 0,
): number {
  if (mtu < IPV4_MIN_MTU || srcLen < IPV4_HEADER_LEN) return -1;
  const hl = (src[srcOff] & 0x0f) << 2;
  const total = (src[srcOff + 2] << 8) | src[srcOff + 3];
  if (hl < IPV4_HEADER_LEN || total < hl || total > srcLen) return -1;
  const flagsWord = (src[srcOff + 6] << 8) | src[srcOff + 7];
  const cap = Math.min(outCapacity, out.length - outOff);

  // Overlapping input and output would corrupt the source mid-copy.
  if (src.buffer === out.buffer) {
    const a = src.byteOffset + srcOff, b = out.byteOffset + outOff;
    if (a < b + cap && b < a + total) return -1;
  }

  if (total <= mtu) {
    if (gap + total > cap || fragOffsets.length < 1 || fragLengths.length < 1) return -1;
    copyBytes(src, srcOff, out, outOff + gap, total);
    fragOffsets[0] = outOff + gap;
    fragLengths[0] = total;
    return 1;
  }
  if (flagsWord & FLAG_DF) return -1;

  const payload = total - hl;
  const optCopied = copiedOptions(src, srcOff, hl, null, 0);
  const laterHl = IPV4_HEADER_LEN + ((optCopied + 3) & ~3);
  // Data per non-last fragment: the largest multiple of 8 that fits.
  const firstData = (mtu - hl) & ~7;
  const laterData = (mtu - laterHl) & ~7;
  if (firstData < 8 || laterData < 8) return -1;

  const rest = payload - firstData; // > 0 since total > mtu
  const count = 1 + Math.ceil(rest / laterData);
  if (count > fragOffsets.length || count > fragLengths.length) return -1;
  const outBytes = hl + laterHl * (count - 1) + payload + gap * count;
  if (outBytes > cap) return -1;
  const baseOffset = flagsWord & FRAG_OFFSET_MASK;
  // Offset of the last fragment, in 8-byte units, must fit 13 bits.
  if (baseOffset + ((firstData + laterData * (count - 2)) >>> 3) > FRAG_OFFSET_MASK) return -1;
  // Keep the reserved bit as received (validated input: zero); clear MF and offset.
  const keepFlags = flagsWord & 0x8000;
  const lastMf = flagsWord & FLAG_MF;

  // First fragment: the whole original header, options included.
  let o = outOff + gap;
  copyBytes(src, srcOff, out, o, hl);
  copyBytes(src, srcOff + hl, out, o + hl, firstData);
  finishHeader(out, o, hl, hl + firstData, keepFlags | FLAG_MF | baseOffset);
  fragOffsets[0] = o;
  fragLengths[0] = hl + firstData;
  o += hl + firstData + gap;

  let dataPos = firstData; // bytes of payload already emitted
  for (let i = 1; i < count; i++) {
    const last = i === count - 1;
    const n = last ? payload - dataPos : laterData;
    copyBytes(src, srcOff, out, o, IPV4_HEADER_LEN);
    // The copied options, padded with EOL to the later fragments' header length.
    for (let w = o + IPV4_HEADER_LEN + copiedOptions(src, srcOff, hl, out, o + IPV4_HEADER_LEN); w < o + laterHl; w++) out[w] = OPT_EOL;
    copyBytes(src, srcOff + hl + dataPos, out, o + laterHl, n);
    finishHeader(out, o, laterHl, laterHl + n,
      keepFlags | (last ? lastMf : FLAG_MF) | (baseOffset + (dataPos >>> 3)));
    fragOffsets[i] = o;
    fragLengths[i] = laterHl + n;
    o += laterHl + n + gap;
    dataPos += n;
  }
  return count;
}
