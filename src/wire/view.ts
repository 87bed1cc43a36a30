// The base of every packet view: a window (buf, off, len) over packet bytes.
// A view is attach()ed and reused for packet after packet, so reading a
// header never allocates; each protocol's view adds typed field accessors.
const EMPTY = new Uint8Array(0);

export class PacketView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes available from `off` (what the layer below says this layer has). */
  len = 0;

  attach(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }
}
