// Independent, deliberately plain re-implementations the fuzz targets check
// the product against: the Internet checksum by the book (RFC 1071, one
// 16-bit word at a time, folded as it goes), header field reads, and a fast
// deterministic byte filler for generated payloads.

/** RFC 1071 checksum of bytes[off, off+len) with a 32-bit-safe running fold. */
export function refChecksum(bytes: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < len; i += 2) {
    const hi = bytes[off + i]!;
    const lo = i + 1 < len ? bytes[off + i + 1]! : 0;
    sum += hi * 256 + lo;
    while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  return 0xffff - sum;
}

/** The pseudo-header's words (RFC 768/793) as a folded partial sum. */
export function refPseudo(src: number, dst: number, proto: number, len: number): number {
  let sum = Math.floor(src / 0x10000) + (src % 0x10000) + Math.floor(dst / 0x10000) + (dst % 0x10000) + proto + len;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

export const u16 = (b: Uint8Array, o: number): number => b[o]! * 256 + b[o + 1]!;
export const u32 = (b: Uint8Array, o: number): number => b[o]! * 0x1000000 + b[o + 1]! * 0x10000 + b[o + 2]! * 0x100 + b[o + 3]!;
export const put16 = (b: Uint8Array, o: number, v: number): void => { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff; };
export const put32 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = (v >>> 24) & 0xff; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff;
};

/** Whether an L4 segment (TCP/UDP) of `len` bytes at `off` checksums to 0 with its pseudo-header. */
export function refL4ChecksumOk(b: Uint8Array, off: number, len: number, src: number, dst: number, proto: number): boolean {
  return refChecksum(b, off, len, refPseudo(src, dst, proto, len)) === 0;
}

/** Fill b[off, off+len) from a 32-bit seed (xorshift32): payloads without generating every byte. */
export function fillBytes(b: Uint8Array, off: number, len: number, seed: number): void {
  let x = seed | 0 || 0x2545f491;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[off + i] = x & 0xff;
  }
}

/** A.B.C.D → uint32. */
export const ip = (s: string): number => s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
export const ipText = (a: number): string => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
