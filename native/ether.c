// tunroute's Ethernet ports: an AF_PACKET socket bound to one interface (a
// veth end, a physical NIC, a TAP), with the same shape as the TUN device:
// a non-blocking fd watched by libuv, each wake-up reads until EAGAIN or the
// batch is full into fixed slots of one JS-owned buffer and makes ONE call
// into JS; writes are one sendmmsg per batch of (offset, length) pairs.
//
// Why AF_PACKET with recvmmsg/sendmmsg (scripts/bench-ethernet.ts measures
// the candidates on a veth chain):
//   - flat out, it delivered more small packets than a TAP joined to the
//     interface by tc mirred (a batch per system call each way and a deep
//     socket buffer, against one read()/write() per frame and a TAP queue
//     that overflows in bursts), and about what a TUN port does;
//   - it needs no extra devices or tc rules per port;
//   - unlike a TPACKET ring of MTU-sized frames (which costs less CPU per
//     packet), it can take a 64 KB super-frame whole (see below).
// The price, measured at a paced load: ~30 % more CPU per packet than a TUN
// port, ~5-10 % more than TAP+mirred.
//
// What a TAP behind mirred gets for free and a packet socket must do itself:
// frames from a kernel neighbour on a veth carry the neighbour's offloads —
// a TCP/UDP checksum left for "hardware" (CHECKSUM_PARTIAL) and TSO/GSO
// super-frames of up to 64 KB. So the socket asks for a virtio-net header
// per frame (PACKET_VNET_HDR) and the reader finishes partial checksums and
// cuts TCPv4 and UDP GSO super-frames into MTU-sized segments, as the
// kernel's own software GSO would. JS only ever sees complete, ordinary
// frames no larger than a slot — unless the port is in offload mode
// ("whole" mode, 64 KB slots): then super-frames and partial checksums go
// to JS as they came, each with its virtio-net header in front, and the
// router forwards a super-frame as one unit.
//
// Reading: recvmmsg puts each frame straight into its JS slot; the rare
// bytes beyond a slot spill into a per-message staging buffer laid out so
// that copying the slot part in front of the spill makes the frame whole.
// When a super-frame arrives, it and the frames after it in that call are
// staged and delivered (segmented) from there, in order, over as many JS
// batches as it takes; an idle handle keeps delivering while the socket is
// quiet.
//
// Opening (and link up/down) runs on a short-lived thread that setns()es
// into the port's namespace, as for the TUN. The open also keeps the
// kernel's own stack off the interface (see configure_link).

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "addon.h"
#include "reader.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define VNET_LEN ((int)sizeof(struct virtio_net_hdr))
// Largest frame the kernel hands a packet socket: an IPv4 GSO super-frame.
#define STAGE_BYTES (65536 + 1024)
#define MAX_SLOTS 1024
#define RCVBUF_BYTES (4 << 20)
#define SNDBUF_BYTES (4 << 20)

// ---- open / link state, on a thread inside the port's namespace ---------------

typedef struct {
  netns_job base;   // the interface, its namespace, the failed step
  int mtu;          // set the interface MTU first (0: leave it)
  int configure;    // 1: take the interface for the router (see configure_link); 0: only listen
  int up;           // for set_link: the wanted IFF_UP
  // results
  int fd;
  int ifindex;
  int cur_mtu;
  int has_ipv4;
  uint8_t mac[6];
} eth_job;

// Write a sysctl of the interface; /proc/sys/net follows this thread's netns.
// A missing file is fine (no IPv6 in this kernel); other failures are not.
// One that already has the value is left alone: in a container /proc/sys is
// read-only (Docker's default without --privileged), and the value may have
// been set from outside (`docker run --sysctl …default…`, inherited by an
// interface moved in later).
static int write_sysctl(eth_job *job, const char *family, const char *key, const char *value) {
  char path[160];
  snprintf(path, sizeof path, "/proc/sys/net/%s/conf/%s/%s", family, job->base.name, key);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 1 : job_fail(&job->base, key);
  char now[16];
  ssize_t r = read(fd, now, sizeof now - 1);
  close(fd);
  size_t len = strlen(value);
  if (r == (ssize_t)len + 1 && memcmp(now, value, len) == 0 && now[len] == '\n') return 1;
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 1 : job_fail(&job->base, key);
  ssize_t w = write(fd, value, strlen(value));
  int e = errno;
  close(fd);
  if (w < 0) { errno = e; return job_fail(&job->base, key); }
  return 1;
}

static void ifreq_for(eth_job *job, struct ifreq *ifr) {
  memset(ifr, 0, sizeof *ifr);
  memcpy(ifr->ifr_name, job->base.name, strlen(job->base.name));
}

// The router owns the interface; the kernel's own stack must stay out of it:
//   - IPv6 off (disable_ipv6=1) BEFORE the link goes up, so the kernel never
//     makes a link-local address and sends no DAD, router solicitation or MLD;
//   - IFF_NOARP: the kernel neither answers nor sends ARP on it (it would
//     otherwise answer for every address of the namespace, arp_ignore=0);
//   - forwarding=0 on the interface: frames the router gets are not also
//     forwarded by the kernel if the namespace has ip_forward=1 (the kernel
//     drops them silently: no ICMP without forwarding);
//   - the interface must carry no IPv4 address (reported as has_ipv4; the
//     JS side refuses such an interface).
// The kernel still sees every received frame (a packet socket taps, it does
// not steal); with no address, no ARP and no forwarding it just drops them.
static int configure_link(eth_job *job, int s) {
  struct ifreq ifr;
  if (!write_sysctl(job, "ipv6", "disable_ipv6", "1")) return 0;
  if (!write_sysctl(job, "ipv4", "forwarding", "0")) return 0;
  if (job->mtu > 0) {
    ifreq_for(job, &ifr);
    ifr.ifr_mtu = job->mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) return job_fail(&job->base, "set MTU");
  }
  ifreq_for(job, &ifr);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return job_fail(&job->base, "get flags");
  ifr.ifr_flags |= IFF_UP | IFF_NOARP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) return job_fail(&job->base, "set link up");
  return 1;
}

static int open_socket(eth_job *job) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);  // protocol 0: nothing queued before bind
  if (fd < 0) return job_fail(&job->base, "socket(AF_PACKET)");
  int one = 1, rcv = RCVBUF_BYTES, snd = SNDBUF_BYTES;
  // Not our own transmissions (nor what the kernel sends): only what arrives.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
    job_fail(&job->base, "packet socket options");
    close(fd);
    return 0;
  }
  // Room for bursts (root may exceed rmem_max); a smaller buffer only drops sooner.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = job->ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    job_fail(&job->base, "bind");
    close(fd);
    return 0;
  }
  // Every IPv4 multicast frame (01:00:5e + the group's low 23 bits, RFC 1112
  // §6.4): OSPF's 224.0.0.5/6 and RIP's 224.0.0.9 are groups the kernel never
  // joins on this interface, so a NIC that filters by MAC would drop them.
  // A veth filters nothing; the membership goes with the socket when it closes.
  struct packet_mreq mr;
  memset(&mr, 0, sizeof mr);
  mr.mr_ifindex = job->ifindex;
  mr.mr_type = PACKET_MR_ALLMULTI;
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
    job_fail(&job->base, "multicast membership");
    close(fd);
    return 0;
  }
  job->fd = fd;
  return 1;
}

static void *open_in_thread(void *arg) {
  eth_job *job = arg;
  job->fd = -1;
  if (!job_enter_netns(&job->base)) return NULL;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { job_fail(&job->base, "socket"); return NULL; }
  struct ifreq ifr;
  ifreq_for(job, &ifr);
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) { job_fail(&job->base, "no such interface"); close(s); return NULL; }
  job->ifindex = ifr.ifr_ifindex;
  ifreq_for(job, &ifr);
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) { job_fail(&job->base, "get MAC address"); close(s); return NULL; }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    errno = EPROTOTYPE;
    job_fail(&job->base, "not an Ethernet interface");
    close(s);
    return NULL;
  }
  memcpy(job->mac, ifr.ifr_hwaddr.sa_data, 6);
  if (job->configure && !configure_link(job, s)) { close(s); return NULL; }
  ifreq_for(job, &ifr);
  if (ioctl(s, SIOCGIFMTU, &ifr) == 0) job->cur_mtu = ifr.ifr_mtu;
  ifreq_for(job, &ifr);
  job->has_ipv4 = ioctl(s, SIOCGIFADDR, &ifr) == 0;
  close(s);
  open_socket(job);
  return NULL;
}

// Port block/unblock: IFF_UP off takes a veth's peer to NO-CARRIER (and a
// NIC's link down); the packet socket survives and re-arms on the way up.
static void *set_link_in_thread(void *arg) {
  eth_job *job = arg;
  job->fd = -1;
  if (!job_enter_netns(&job->base)) return NULL;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { job_fail(&job->base, "socket"); return NULL; }
  struct ifreq ifr;
  ifreq_for(job, &ifr);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { job_fail(&job->base, "get flags"); close(s); return NULL; }
  if (job->up) ifr.ifr_flags |= IFF_UP; else ifr.ifr_flags &= ~IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { job_fail(&job->base, job->up ? "set link up" : "set link down"); close(s); return NULL; }
  close(s);
  job->fd = 0;
  return NULL;
}

static void set_int(napi_env env, napi_value obj, const char *key, int v) {
  napi_value x;
  napi_create_int32(env, v, &x);
  napi_set_named_property(env, obj, key, x);
}

// openPacket(name, netnsPath, mtu, configure) -> { fd, ifindex, mac, mtu, hasIpv4 }
static napi_value OpenPacket(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  eth_job job = {0};
  if (!job_args(env, argv[0], argv[1], &job.base)) return NULL;
  bool configure;
  CHECK(napi_get_value_int32(env, argv[2], &job.mtu));
  CHECK(napi_get_value_bool(env, argv[3], &configure));
  job.configure = configure;
  if (!job_run(env, open_in_thread, &job)) return NULL;
  if (job.fd < 0) return job_error(env, &job.base);
  napi_value out, mac, has;
  CHECK(napi_create_object(env, &out));
  set_int(env, out, "fd", job.fd);
  set_int(env, out, "ifindex", job.ifindex);
  set_int(env, out, "mtu", job.cur_mtu);
  char text[18];
  snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", job.mac[0], job.mac[1], job.mac[2], job.mac[3], job.mac[4], job.mac[5]);
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &mac));
  CHECK(napi_set_named_property(env, out, "mac", mac));
  CHECK(napi_get_boolean(env, job.has_ipv4, &has));
  CHECK(napi_set_named_property(env, out, "hasIpv4", has));
  return out;
}

// setLinkUp(name, netnsPath, up)
static napi_value SetLinkUp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  eth_job job = {0};
  if (!job_args(env, argv[0], argv[1], &job.base)) return NULL;
  bool up;
  CHECK(napi_get_value_bool(env, argv[2], &up));
  job.up = up;
  if (!job_run(env, set_link_in_thread, &job)) return NULL;
  if (job.fd < 0) return job_error(env, &job.base);
  return NULL;
}

// ---- checksums and software GSO ---------------------------------------------

// Internet checksum sum (RFC 1071) of n bytes as big-endian 16-bit words,
// added to acc. Eight bytes at a time in host order: one's complement sums
// do not care about byte order except for a final swap (RFC 1071 §2(B)).
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc) {
  uint64_t s = 0;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    s += (w & 0xffffffffu) + (w >> 32);
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    uint16_t h;
    memcpy(&h, p, 2);
    s += h;
    p += 2;
    n -= 2;
  }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n) s += p[0];  // the odd byte is a word's high byte in network order
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  s = ((s & 0xff) << 8) | (s >> 8);
#else
  if (n) s += (uint64_t)p[0] << 8;
#endif
  return acc + (uint32_t)s;
}

static uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)acc;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

// CHECKSUM_PARTIAL: the field holds the pseudo-header sum; sum the rest in.
static int finish_checksum(uint8_t *f, size_t len, const struct virtio_net_hdr *h) {
  size_t start = h->csum_start, at = start + h->csum_offset;
  if (start >= len || at + 2 > len) return 0;
  uint16_t c = (uint16_t)~fold(sum16(f + start, len - start, 0));
  put16(f + at, c ? c : 0xffff);
  return 1;
}

// Where a super-frame's headers end, or 0 if it is not a GSO frame we can cut
// (IPv4 only: TCP or UDP over Ethernet II without VLAN tag in the data).
static size_t gso_headers(const uint8_t *f, size_t len, int gso, int *is_tcp) {
  if (len < 14 + 20 || get16(f + 12) != ETH_P_IP || (f[14] >> 4) != 4) return 0;
  size_t ihl = (size_t)(f[14] & 15) * 4, l4 = 14 + ihl;
  if (ihl < 20) return 0;
  if (gso == VIRTIO_NET_HDR_GSO_TCPV4 && f[14 + 9] == IPPROTO_TCP) {
    if (l4 + 20 > len) return 0;
    size_t thl = (size_t)(f[l4 + 12] >> 4) * 4;
    if (thl < 20 || l4 + thl > len) return 0;
    *is_tcp = 1;
    return l4 + thl;
  }
  if (gso == VIRTIO_NET_HDR_GSO_UDP_L4 && f[14 + 9] == IPPROTO_UDP) {
    if (l4 + 8 > len) return 0;
    *is_tcp = 0;
    return l4 + 8;
  }
  return 0;
}

// Segment number `i` of a super-frame into `out`; returns its length.
// Mirrors the kernel's tcp4/udp4 software GSO: per segment IP total length,
// an incrementing IP id, a fresh IP checksum; TCP sequence advanced, FIN/PSH
// only on the last segment, CWR only on the first; full L4 checksums.
static size_t gso_segment(const uint8_t *f, size_t len, size_t hdrs, int is_tcp, size_t mss, size_t i, uint8_t *out) {
  size_t payload = len - hdrs, off = i * mss;
  size_t chunk = payload - off < mss ? payload - off : mss;
  size_t nseg = (payload + mss - 1) / mss;
  memcpy(out, f, hdrs);
  memcpy(out + hdrs, f + hdrs + off, chunk);
  uint8_t *ip = out + 14;
  size_t ihl = (size_t)(ip[0] & 15) * 4, l4len = hdrs - 14 - ihl + chunk;
  put16(ip + 2, (uint16_t)(ihl + l4len));
  put16(ip + 4, (uint16_t)(get16(f + 14 + 4) + i));
  put16(ip + 10, 0);
  put16(ip + 10, (uint16_t)~fold(sum16(ip, ihl, 0)));
  uint8_t *l4 = ip + ihl;
  uint32_t pseudo = sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)l4len;
  if (is_tcp) {
    put32(l4 + 4, get32(f + 14 + ihl + 4) + (uint32_t)off);
    if (i + 1 < nseg) l4[13] &= (uint8_t)~0x09;  // FIN, PSH
    if (i > 0) l4[13] &= (uint8_t)~0x80;         // CWR
    put16(l4 + 16, 0);
    put16(l4 + 16, (uint16_t)~fold(sum16(l4, l4len, pseudo)));
  } else {
    put16(l4 + 4, (uint16_t)l4len);
    put16(l4 + 6, 0);
    uint16_t c = (uint16_t)~fold(sum16(l4, l4len, pseudo));
    put16(l4 + 6, c ? c : 0xffff);
  }
  return hdrs + chunk;
}

// ---- batched reads on the event loop -----------------------------------------

// Counters of what the reader dropped or did (device-level; JS sees only good frames).
enum {
  ST_OVERSIZE,       // a plain frame larger than a slot
  ST_TRUNCATED,      // larger than even the staging buffer
  ST_VLAN,           // 802.1Q-tagged (the tag arrives out of band)
  ST_BAD_OFFLOAD,    // a partial checksum or super-frame we cannot complete/cut
  ST_CSUM_DONE,      // partial checksums completed
  ST_GSO_FRAMES,     // super-frames cut
  ST_GSO_SEGMENTS,   // segments made from them
  ST_KERNEL_DROPS,   // dropped by the kernel: the socket's receive buffer was full
  ST_COUNT
};
static const char *STAT_NAMES[ST_COUNT] = {
  "oversize", "truncated", "vlanTagged", "badOffload", "checksumsCompleted", "gsoFrames", "gsoSegments", "kernelDrops",
};

typedef struct {
  batch_reader core;            // first: the shared watcher (reader.c) sees a preader as a batch_reader
  // recvmmsg state, one entry per slot
  struct mmsghdr *msgs;
  struct iovec *iov;            // 3 per message: vnet header, slot, spill
  struct virtio_net_hdr *vnet;
  uint8_t *cmsg;                // control buffer per message (auxdata)
  size_t cmsg_len;
  uint8_t *stage;               // STAGE_BYTES per message (mmap, touched only when used)
  // staged messages waiting for delivery: [stage_next, stage_count)
  int stage_next;
  int stage_count;
  size_t seg_next;              // next segment of the staged super-frame in progress
  // Whole mode (an offload port): super-frames and partial checksums are
  // delivered as they came, each frame's virtio-net header written in the
  // VNET_LEN bytes before it in the slot (all zero for an ordinary frame);
  // the slots hold the largest frame and that header.
  int whole;
  double stats[ST_COUNT];
} preader;

static uint8_t *stage_of(preader *r, int j) { return r->stage + (size_t)j * STAGE_BYTES; }

static int vlan_tagged(preader *r, int j) {
  struct msghdr *mh = &r->msgs[j].msg_hdr;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
      struct tpacket_auxdata aux;
      memcpy(&aux, CMSG_DATA(c), sizeof aux);
      return (aux.tp_status & TP_STATUS_VLAN_VALID) != 0;
    }
  }
  return 0;
}

// Bytes of message j's frame (the vnet header is not part of it).
static size_t frame_len(preader *r, int j) {
  unsigned got = r->msgs[j].msg_len;
  return got > (unsigned)VNET_LEN ? got - VNET_LEN : 0;
}

// Deliver staged message j (whole in its stage buffer) into slots from *n.
// Returns 1 when the message is done, 0 when the slots ran out first.
static int vlan_tagged(preader *r, int j);

static int deliver_staged(preader *r, int j, int *n) {
  const struct virtio_net_hdr *h = &r->vnet[j];
  if (r->msgs[j].msg_hdr.msg_flags & MSG_TRUNC) { r->stats[ST_TRUNCATED]++; return 1; }
  if (vlan_tagged(r, j)) { r->stats[ST_VLAN]++; return 1; }
  uint8_t *f = stage_of(r, j);
  size_t len = frame_len(r, j);
  int gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
  if (gso == VIRTIO_NET_HDR_GSO_NONE) {
    if (len > r->core.slot_size) { r->stats[ST_OVERSIZE]++; return 1; }
    uint8_t *slot = r->core.base + (size_t)*n * r->core.slot_size;
    memcpy(slot, f, len);
    if (r->whole) memset(slot - VNET_LEN, 0, VNET_LEN);
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
      if (!finish_checksum(slot, len, h)) { r->stats[ST_BAD_OFFLOAD]++; return 1; }
      r->stats[ST_CSUM_DONE]++;
    }
    r->core.lengths[(*n)++] = (int32_t)len;
    return 1;
  }
  int is_tcp = 0;
  size_t hdrs = gso_headers(f, len, gso, &is_tcp);
  size_t mss = h->gso_size;
  if (!hdrs || mss == 0 || hdrs + mss > r->core.slot_size || hdrs >= len) {
    r->stats[ST_BAD_OFFLOAD]++;
    return 1;
  }
  size_t nseg = (len - hdrs + mss - 1) / mss;
  if (r->seg_next == 0) r->stats[ST_GSO_FRAMES]++;
  while (r->seg_next < nseg) {
    if (*n >= r->core.slots) return 0;
    uint8_t *slot = r->core.base + (size_t)*n * r->core.slot_size;
    if (r->whole) memset(slot - VNET_LEN, 0, VNET_LEN);
    r->core.lengths[(*n)++] = (int32_t)gso_segment(f, len, hdrs, is_tcp, mss, r->seg_next++, slot);
    r->stats[ST_GSO_SEGMENTS]++;
  }
  r->seg_next = 0;
  return 1;
}

// Message j always reads into slot j (vnet header j, spill j): the iovecs
// are set once; a call for slots n.. passes msgs + n. Only the control
// length, which the kernel overwrites, is reset per call.
static void init_messages(preader *r) {
  for (int j = 0; j < r->core.slots; j++) {
    struct iovec *v = &r->iov[3 * j];
    v[0].iov_base = &r->vnet[j];
    v[0].iov_len = VNET_LEN;
    v[1].iov_base = r->core.base + (size_t)j * r->core.slot_size;
    v[1].iov_len = r->core.slot_size;
    v[2].iov_base = stage_of(r, j) + r->core.slot_size;
    v[2].iov_len = r->core.slot_size < STAGE_BYTES ? STAGE_BYTES - r->core.slot_size : 0;
    struct msghdr *mh = &r->msgs[j].msg_hdr;
    memset(mh, 0, sizeof *mh);
    mh->msg_iov = v;
    // A whole-mode slot holds any frame: no spill.
    mh->msg_iovlen = v[2].iov_len ? 3 : 2;
    mh->msg_control = r->cmsg + (size_t)j * r->cmsg_len;
  }
}

// Fill JS slots: staged messages first, then recvmmsg until EAGAIN or full.
static int fill_batch(preader *r, int *err) {
  int n = 0;
  while (n < r->core.slots) {
    if (r->stage_next < r->stage_count) {
      if (!deliver_staged(r, r->stage_next, &n)) break;
      r->stage_next++;
      continue;
    }
    int want = r->core.slots - n;
    for (int j = n; j < r->core.slots; j++) r->msgs[j].msg_hdr.msg_controllen = r->cmsg_len;
    int got = recvmmsg(r->core.fd, r->msgs + n, (unsigned)want, MSG_DONTWAIT, NULL);
    if (got < 0) {
      if (errno == EINTR) continue;
      // ENETDOWN: the link went down (a port block); the socket re-arms when it comes up.
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENETDOWN) *err = errno;
      break;
    }
    // Plain frames stay in their slots (closing gaps left by drops); from the
    // first one needing work on, the rest of this call is staged, in order.
    int w = n, end = n + got;
    for (int j = n; j < end; j++) {
      size_t len = frame_len(r, j);
      const struct virtio_net_hdr *h = &r->vnet[j];
      if (r->msgs[j].msg_hdr.msg_flags & MSG_TRUNC) { r->stats[ST_TRUNCATED]++; continue; }
      if (vlan_tagged(r, j)) { r->stats[ST_VLAN]++; continue; }
      if (r->whole && len + VNET_LEN <= r->core.slot_size) {
        // As it came, header in front (it cannot reach into the previous frame: that one ends VNET_LEN before this slot).
        uint8_t *dst = r->core.base + (size_t)w * r->core.slot_size;
        if (w != j) memmove(dst, r->core.base + (size_t)j * r->core.slot_size, len);
        memcpy(dst - VNET_LEN, h, VNET_LEN);
        r->core.lengths[w++] = (int32_t)len;
        continue;
      }
      if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE && len <= r->core.slot_size) {
        uint8_t *slot = r->core.base + (size_t)j * r->core.slot_size;
        if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
          if (!finish_checksum(slot, len, h)) { r->stats[ST_BAD_OFFLOAD]++; continue; }
          r->stats[ST_CSUM_DONE]++;
        }
        if (w != j) memmove(r->core.base + (size_t)w * r->core.slot_size, slot, len);
        if (r->whole) memset(r->core.base + (size_t)w * r->core.slot_size - VNET_LEN, 0, VNET_LEN);
        r->core.lengths[w++] = (int32_t)len;
        continue;
      }
      // Stage j..end-1: put each slot part in front of its spill.
      for (int k = j; k < end; k++) {
        size_t kl = frame_len(r, k);
        memcpy(stage_of(r, k), r->core.base + (size_t)k * r->core.slot_size, kl < r->core.slot_size ? kl : r->core.slot_size);
      }
      r->stage_next = j;
      r->stage_count = end;
      r->seg_next = 0;
      break;
    }
    n = w;
    if (r->stage_next < r->stage_count) continue;  // deliver what was staged
    if (got < want) break;                          // the socket is drained
  }
  return n;
}

static int ether_fill(batch_reader *b, int *err) { return fill_batch((preader *)b, err); }

// Staged frames left over: delivered on the next loop turns even if the socket stays quiet.
static int ether_more(batch_reader *b) {
  preader *r = (preader *)b;
  return r->stage_next < r->stage_count;
}

static void ether_free(batch_reader *b) {
  preader *r = (preader *)b;
  free(r->msgs);
  free(r->iov);
  free(r->vnet);
  free(r->cmsg);
  if (r->stage) munmap(r->stage, (size_t)r->core.slots * STAGE_BYTES);
}

// startPacketReader(fd, buf, offset, slotSize, slots, lengths: Int32Array, callback(count, errno), whole?) -> handle
// whole: deliver super-frames and partial checksums as they came, each
// frame's virtio-net header in the VNET_LEN bytes before it (offset >=
// VNET_LEN; slots of at least 64 KB + an Ethernet and a virtio-net header).
#define WHOLE_SLOT_MIN (65535 + 14 + VNET_LEN)
#define WHOLE_SLOT_MAX (128 * 1024)
static napi_value StartPacketReader(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_args a;
  if (!reader_parse(env, argv, "startPacketReader", &a)) return NULL;
  bool whole = false;
  if (argc > 7) napi_get_value_bool(env, argv[7], &whole);
  int slot_ok = whole ? a.slot_size >= WHOLE_SLOT_MIN && a.slot_size <= WHOLE_SLOT_MAX && a.offset >= VNET_LEN
                      : a.slot_size >= 64 && a.slot_size <= STAGE_BYTES / 2;
  if (!slot_ok || a.slots > MAX_SLOTS) {
    napi_throw_range_error(env, "ERANGE", "startPacketReader: slot size out of 64..32K (whole: 64K..128K) or more than 1024 slots");
    return NULL;
  }
  preader *r = (preader *)reader_alloc(sizeof *r, &a);
  if (!r) return throw_errno(env, ENOMEM, "startPacketReader");
  r->core.fill = ether_fill;
  r->core.more = ether_more;
  r->core.socket_errors = 1;
  r->core.free_kind = ether_free;
  r->whole = whole;
  size_t slots = (size_t)a.slots;
  r->cmsg_len = CMSG_SPACE(sizeof(struct tpacket_auxdata));
  r->msgs = calloc(slots, sizeof *r->msgs);
  r->iov = calloc(slots * 3, sizeof *r->iov);
  r->vnet = calloc(slots, sizeof *r->vnet);
  r->cmsg = calloc(slots, r->cmsg_len);
  // Virtual room for a super-frame per message; pages are touched only by frames that need them.
  r->stage = mmap(NULL, slots * STAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r->stage == MAP_FAILED) r->stage = NULL;
  if (!r->msgs || !r->iov || !r->vnet || !r->cmsg || !r->stage) {
    reader_discard(&r->core);
    return throw_errno(env, ENOMEM, "startPacketReader");
  }
  init_messages(r);
  return reader_start(env, &r->core, argv, "tunroute:packet-read");
}

// packetReaderStats(handle, fd) -> { oversize, truncated, ..., kernelDrops }
static napi_value PacketReaderStats(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  preader *r = (preader *)reader_of(env, argv[0]);
  int fd;
  CHECK(napi_get_value_int32(env, argv[1], &fd));
  if (!r) { napi_throw_type_error(env, "EINVAL", "packetReaderStats(handle, fd)"); return NULL; }
  // Reading PACKET_STATISTICS resets it: accumulate.
  struct tpacket_stats ps;
  socklen_t pl = sizeof ps;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ps, &pl) == 0) r->stats[ST_KERNEL_DROPS] += ps.tp_drops;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  for (int i = 0; i < ST_COUNT; i++) {
    napi_value x;
    CHECK(napi_create_double(env, r->stats[i], &x));
    CHECK(napi_set_named_property(env, out, STAT_NAMES[i], x));
  }
  return out;
}

// ---- writes ------------------------------------------------------------------

// packetWriteBatch(fd, buf, offsets: Int32Array, lengths: Int32Array, count,
//                  vnet: Int32Array | null) -> frames sent.
// joinFanout(fd, group): the socket joins a fanout group (PACKET_FANOUT_HASH):
// the kernel hands each frame to one socket of the group by a symmetric flow
// hash, so both directions of a flow land on the same socket (the same
// forwarding thread) and its packets keep their order. Every socket of one
// interface joins with the same group id (unique among the process's groups).
static napi_value JoinFanout(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t group;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[1], &group));
  int arg = (int)((group & 0xffff) | (PACKET_FANOUT_HASH << 16));
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0) return throw_errno(env, errno, "PACKET_FANOUT");
  return NULL;
}

// One sendmmsg per up to 256 frames; a frame the kernel refuses is skipped
// and its negative errno left in lengths[i] (the caller counts it). Every
// frame goes with a virtio-net header (the socket has PACKET_VNET_HDR): the
// one at buf[vnet[i]] when vnet is given and vnet[i] >= 0 — a super-frame
// the kernel segments, or hands whole to an interface that takes it (a veth
// does), or a frame whose checksum it finishes — else all zero.
#define TX_CHUNK 256
static struct virtio_net_hdr tx_vnet;  // all zero: a complete frame, no offload asked
static napi_value PacketWriteBatch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  write_args a;
  if (!write_parse(env, argv, "packetWriteBatch", &a)) return NULL;
  int fd = a.fd, count = a.count;
  uint8_t *data = a.data;
  size_t dlen = a.data_len;
  int32_t *offs = a.offs, *lens = a.lens;
  int32_t *vnet = NULL;
  size_t n3 = 0;
  napi_valuetype vt = napi_undefined;
  if (argc > 5) napi_typeof(env, argv[5], &vt);
  if (vt == napi_object && !get_i32_array(env, argv[5], &vnet, &n3)) {
    napi_throw_type_error(env, "EINVAL", "packetWriteBatch: vnet must be an Int32Array or null");
    return NULL;
  }
  if (vnet && (size_t)count > n3) {
    napi_throw_range_error(env, "ERANGE", "packetWriteBatch: count out of range");
    return NULL;
  }
  static struct mmsghdr msgs[TX_CHUNK];
  static struct iovec iov[2 * TX_CHUNK];
  static int index_of[TX_CHUNK];
  int ok = 0, i = 0;
  while (i < count) {
    int m = 0;
    for (; i < count && m < TX_CHUNK; i++) {
      int32_t o = offs[i], l = lens[i];
      if (o < 0 || l < 14 || (size_t)o + (size_t)l > dlen) { lens[i] = -EINVAL; continue; }
      int32_t h = vnet ? vnet[i] : -1;
      if (h >= 0 && (size_t)h + VNET_LEN > dlen) { lens[i] = -EINVAL; continue; }
      iov[2 * m].iov_base = h >= 0 ? (void *)(data + h) : (void *)&tx_vnet;
      iov[2 * m].iov_len = VNET_LEN;
      iov[2 * m + 1].iov_base = data + o;
      iov[2 * m + 1].iov_len = (size_t)l;
      memset(&msgs[m], 0, sizeof msgs[m]);
      msgs[m].msg_hdr.msg_iov = &iov[2 * m];
      msgs[m].msg_hdr.msg_iovlen = 2;
      index_of[m++] = i;
    }
    int done = 0;
    while (done < m) {
      int k = sendmmsg(fd, msgs + done, (unsigned)(m - done), MSG_DONTWAIT);
      if (k < 0) {
        if (errno == EINTR) continue;
        lens[index_of[done]] = -errno;  // this frame failed; go on with the next
        done++;
        continue;
      }
      ok += k;
      done += k;
    }
  }
  napi_value out;
  CHECK(napi_create_int32(env, ok, &out));
  return out;
}

napi_value ether_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"joinFanout", NULL, JoinFanout, NULL, NULL, NULL, napi_default, NULL},
    {"openPacket", NULL, OpenPacket, NULL, NULL, NULL, napi_default, NULL},
    {"setLinkUp", NULL, SetLinkUp, NULL, NULL, NULL, napi_default, NULL},
    {"startPacketReader", NULL, StartPacketReader, NULL, NULL, NULL, napi_default, NULL},
    {"packetReaderStats", NULL, PacketReaderStats, NULL, NULL, NULL, napi_default, NULL},
    {"packetWriteBatch", NULL, PacketWriteBatch, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
