// The prefix checks both longest-prefix tables make on what they are given.
import { maskOf } from '../net/addr.js';

/** The prefix as uint32; a RangeError for a bad length, a non-32-bit value or host bits set. */
export function checkPrefix(prefix: number, len: number): number {
  if (!Number.isInteger(len) || len < 0 || len > 32) {
    throw new RangeError(`prefix length must be an integer 0..32, got ${len}`);
  }
  // Accept int32 too (results of `addr & mask` are signed) and normalise.
  if (!Number.isInteger(prefix) || prefix < -0x80000000 || prefix > 0xffffffff) {
    throw new RangeError(`prefix must be a 32-bit integer, got ${prefix}`);
  }
  const p = prefix >>> 0;
  if ((p & ~maskOf(len)) !== 0) {
    throw new RangeError(`prefix ${p >>> 24}.${(p >>> 16) & 255}.${(p >>> 8) & 255}.${p & 255}/${len} has host bits set`);
  }
  return p;
}
