// Building test packets: a TCP segment or UDP datagram with real headers.
import { writeIpv4Header, IpProto } from '../../src/wire/ipv4.js';
import { buildUdpDatagram } from '../../src/wire/udp.js';
import { checksum, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { parseAddress } from '../../src/net/addr.js';

export const A = (s: string) => parseAddress(s);

export function udpPacket(src: string, dst: string, sport: number, dport: number, payload = 8): Uint8Array {
  const buf = new Uint8Array(28 + payload);
  for (let i = 0; i < payload; i++) buf[28 + i] = i;
  buildUdpDatagram(buf, 0, A(src), A(dst), sport, dport, payload, 64);
  return buf;
}

export function tcpPacket(src: string, dst: string, sport: number, dport: number, flags: number, payload = 0, seq = 0x12000034): Uint8Array {
  const len = 40 + payload;
  const buf = new Uint8Array(len);
  writeIpv4Header(buf, 0, len, IpProto.TCP, A(src), A(dst), 64);
  const t = 20;
  buf[t] = sport >> 8; buf[t + 1] = sport & 255;
  buf[t + 2] = dport >> 8; buf[t + 3] = dport & 255;
  buf[t + 4] = seq >>> 24; buf[t + 5] = (seq >>> 16) & 255; buf[t + 6] = (seq >>> 8) & 255; buf[t + 7] = seq & 255;
  buf[t + 12] = 5 << 4;
  buf[t + 13] = flags;
  buf[t + 14] = 0xff; buf[t + 15] = 0xff;
  for (let i = 0; i < payload; i++) buf[40 + i] = i;
  const c = checksum(buf, t, 20 + payload, pseudoHeaderSum(A(src), A(dst), IpProto.TCP, 20 + payload));
  buf[t + 16] = c >> 8; buf[t + 17] = c & 255;
  return buf;
}
