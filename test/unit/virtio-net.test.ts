import test from 'node:test';
import assert from 'node:assert/strict';
import {
  VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_MRG_LEN, VirtioCheck, VirtioFlag, VirtioGso, VirtioNetHdrView,
} from '../../src/wire/virtio-net.js';

test('virtio-net: reads the fields of a header as the kernel lays it out (little-endian)', () => {
  // flags NEEDS_CSUM, TCPV4|ECN, hdr_len 66, gso_size 1448, csum_start 20, csum_offset 16
  const b = new Uint8Array([0xee, 1, 0x81, 66, 0, 0xa8, 0x05, 20, 0, 16, 0, 0xee]);
  const h = new VirtioNetHdrView().attach(b, 1, VIRTIO_NET_HDR_LEN);
  assert.equal(h.flags, VirtioFlag.NEEDS_CSUM);
  assert.equal(h.needsCsum, true);
  assert.equal(h.dataValid, false);
  assert.equal(h.gsoType, 0x81);
  assert.equal(h.gsoKind, VirtioGso.TCPV4);
  assert.equal(h.gsoEcn, true);
  assert.equal(h.isGso, true);
  assert.equal(h.hdrLen, 66);
  assert.equal(h.gsoSize, 1448);
  assert.equal(h.csumStart, 20);
  assert.equal(h.csumOffset, 16);
  assert.equal(h.numBuffers, 0, '10-byte layout has no num_buffers');
  assert.equal(h.check(1500), VirtioCheck.OK);
  const m = new VirtioNetHdrView().attach(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1]), 0, VIRTIO_NET_HDR_MRG_LEN);
  assert.equal(m.numBuffers, 0x0103);
});

test('virtio-net: setters write what the kernel expects, and only inside the header', () => {
  const b = new Uint8Array(16).fill(0x5a);
  const h = new VirtioNetHdrView().attach(b, 2, VIRTIO_NET_HDR_MRG_LEN);
  h.setGso(VirtioGso.TCPV4, 52, 1240, 20, 16);
  assert.deepEqual([...b], [0x5a, 0x5a, 1, 1, 52, 0, 0xd8, 0x04, 20, 0, 16, 0, 0, 0, 0x5a, 0x5a]);
  h.setPartial(20, 6);
  assert.deepEqual([...b.subarray(2, 14)], [1, 0, 0, 0, 0, 0, 20, 0, 6, 0, 0, 0]);
  h.setNone();
  assert.deepEqual([...b.subarray(2, 14)], new Array(12).fill(0));
  assert.equal(b[1], 0x5a);
  assert.equal(b[14], 0x5a);
  h.gsoSize = 0xfffe;
  h.hdrLen = 0x1234;
  h.csumStart = 0x0102;
  h.csumOffset = 0x0304;
  h.flags = VirtioFlag.DATA_VALID;
  h.gsoType = VirtioGso.UDP_L4;
  assert.equal(h.gsoSize, 0xfffe);
  assert.equal(h.hdrLen, 0x1234);
  assert.equal(h.csumStart, 0x0102);
  assert.equal(h.csumOffset, 0x0304);
  assert.equal(h.dataValid, true);
  assert.equal(h.gsoKind, VirtioGso.UDP_L4);
});

test('virtio-net: check() rejects what the kernel would not produce or accept', () => {
  const b = new Uint8Array(10);
  const h = new VirtioNetHdrView().attach(b, 0, 10);
  assert.equal(h.check(40), VirtioCheck.OK, 'all-zero: a plain packet');
  h.setPartial(20, 16);
  assert.equal(h.check(38), VirtioCheck.OK, 'checksum field ends exactly at the packet end');
  assert.equal(h.check(37), VirtioCheck.BAD_CSUM_RANGE);
  h.setGso(VirtioGso.TCPV4, 40, 0, 20, 16);
  assert.equal(h.check(3000), VirtioCheck.BAD_GSO_SIZE);
  h.setGso(VirtioGso.UDP, 28, 1000, 20, 6);
  assert.equal(h.check(3000), VirtioCheck.BAD_GSO_TYPE, 'UFO is not something we handle');
  h.setGso(0x42, 28, 1000, 20, 6);
  assert.equal(h.check(3000), VirtioCheck.BAD_GSO_TYPE);
  h.setGso(VirtioGso.UDP_L4, 28, 1000, 20, 6);
  assert.equal(h.check(3000), VirtioCheck.OK);
  h.setNone();
  h.gsoType = VirtioGso.ECN;
  assert.equal(h.check(40), VirtioCheck.BAD_GSO_TYPE, 'ECN bit without a GSO type');
  assert.equal(new VirtioNetHdrView().attach(b, 0, 8).check(40), VirtioCheck.TRUNCATED);
});
