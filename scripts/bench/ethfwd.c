// The ceiling for a userspace router on Ethernet ports, one program per way
// of attaching to an interface, so they can be compared on the same veth
// chain: every frame read from interface A goes out of interface B with its
// Ethernet header rewritten (dst = the next hop's MAC, src = B's MAC) and no
// other parsing. Runs inside the router namespace.
//
//   ethfwd MODE IN OUT DST_MAC
//     packet  AF_PACKET sockets, recvmmsg into slots / sendmmsg from slots
//     vnet    the same with PACKET_VNET_HDR, completing partial checksums as
//             the addon does (native/ether.c) — needed for kernel peers on
//             veths, which leave L4 checksums to "hardware"
//     ring    AF_PACKET, TPACKET_V2 RX ring (copied into slots) / sendmmsg
//     ringtx  AF_PACKET, TPACKET_V2 RX ring / TPACKET_V2 TX ring
//     tap     IN and OUT are TAP devices (joined to the veths by tc mirred):
//             read() until EAGAIN / write() per frame, like tunfwd
//
// The slots stand for the JS arena the addon reads into: every mode ends
// with the frames in slots and transmits from slots, as the router would.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048
#define RING_FRAMES 1024

static uint8_t slots[BATCH][SLOT];
static int lens[BATCH];
static uint8_t dst_mac[6], src_mac[6];
static long truncated, reported;

static void die(const char *what) { perror(what); exit(1); }

static int ifindex_of(const char *dev, uint8_t mac[6]) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) die(dev);
  int idx = ifr.ifr_ifindex;
  if (mac) {
    if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) die(dev);
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  }
  close(s);
  return idx;
}

static int vnet;

static int open_packet(const char *dev) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
  if (fd < 0) die("socket");
  int one = 1, big = 8 << 20;
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  if (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) die("PACKET_VNET_HDR");
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex_of(dev, NULL) };
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) die("bind");
  return fd;
}

static uint8_t *map_ring(int fd, int which, struct tpacket_req *req) {
  int v = TPACKET_V2;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) die("PACKET_VERSION");
  req->tp_frame_size = SLOT;
  req->tp_frame_nr = RING_FRAMES;
  req->tp_block_size = 1 << 16;
  req->tp_block_nr = RING_FRAMES * SLOT / req->tp_block_size;
  if (setsockopt(fd, SOL_PACKET, which, req, sizeof *req) < 0) die("ring");
  return NULL;
}

static int open_tap(const char *dev) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) die(dev);
  return fd;
}

static struct virtio_net_hdr vh[BATCH], zero_vh;

// As native/ether.c: the L4 checksum the sender left partial, 8 bytes at a time.
static void finish_checksum(uint8_t *f, int len, const struct virtio_net_hdr *h) {
  int start = h->csum_start, at = start + h->csum_offset;
  if (start >= len || at + 2 > len) return;
  const uint8_t *p = f + start;
  size_t n = (size_t)(len - start);
  uint64_t s = 0;
  while (n >= 8) { uint64_t w; memcpy(&w, p, 8); s += (w & 0xffffffffu) + (w >> 32); p += 8; n -= 8; }
  while (n >= 2) { uint16_t w; memcpy(&w, p, 2); s += w; p += 2; n -= 2; }
  if (n) s += p[0];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t c = (uint16_t)~(((s & 0xff) << 8) | (s >> 8));
  if (!c) c = 0xffff;
  f[at] = c >> 8;
  f[at + 1] = c & 0xff;
}

static void rewrite(uint8_t *f) {
  memcpy(f, dst_mac, 6);
  memcpy(f + 6, src_mac, 6);
}

static int parse_mac(const char *s, uint8_t mac[6]) {
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6;
}

// sendmmsg of n slots; retry what the socket did not take (it has 8 MB).
static void send_slots(int out, int n) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[2 * BATCH];
  memset(msgs, 0, sizeof(struct mmsghdr) * n);
  for (int i = 0; i < n; i++) {
    iov[2 * i].iov_base = &zero_vh;
    iov[2 * i].iov_len = sizeof zero_vh;
    iov[2 * i + 1].iov_base = slots[i];
    iov[2 * i + 1].iov_len = lens[i];
    msgs[i].msg_hdr.msg_iov = vnet ? &iov[2 * i] : &iov[2 * i + 1];
    msgs[i].msg_hdr.msg_iovlen = vnet ? 2 : 1;
  }
  int done = 0;
  while (done < n) {
    int k = sendmmsg(out, msgs + done, n - done, 0);
    if (k < 0) { if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) { done++; continue; } die("sendmmsg"); }
    done += k;
  }
}

// One direction of the packet/tap modes: move what is waiting on `in` to `out`.
static void forward_once(int tap, int in, int out, const uint8_t dst[6], const uint8_t src[6]) {
  memcpy(dst_mac, dst, 6);
  memcpy(src_mac, src, 6);
  int n = 0;
  if (tap) {
    while (n < BATCH && (lens[n] = read(in, slots[n], SLOT)) > 0) n++;
    for (int i = 0; i < n; i++) { rewrite(slots[i]); (void)!write(out, slots[i], lens[i]); }
    return;
  }
  // Set up once: message i always reads into slot i (the kernel does not change iovecs).
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[2 * BATCH];
  static int ready;
  if (!ready) {
    ready = 1;
    for (int i = 0; i < BATCH; i++) {
      iov[2 * i].iov_base = &vh[i];
      iov[2 * i].iov_len = sizeof vh[i];
      iov[2 * i + 1].iov_base = slots[i];
      iov[2 * i + 1].iov_len = SLOT;
      msgs[i].msg_hdr.msg_iov = vnet ? &iov[2 * i] : &iov[2 * i + 1];
      msgs[i].msg_hdr.msg_iovlen = vnet ? 2 : 1;
    }
  }
  n = recvmmsg(in, msgs, BATCH, MSG_DONTWAIT, NULL);
  if (n <= 0) return;
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) { truncated++; continue; }
    int len = (int)msgs[i].msg_len - (vnet ? (int)sizeof vh[i] : 0);
    if (vnet && vh[i].gso_type != VIRTIO_NET_HDR_GSO_NONE) { truncated++; continue; }
    if (vnet && (vh[i].flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) finish_checksum(slots[i], len, &vh[i]);
    if (k != i) memmove(slots[k], slots[i], len);
    lens[k] = len;
    rewrite(slots[k++]);
  }
  send_slots(out, k);
}

int main(int argc, char **argv) {
  uint8_t back_mac[6];
  int both = argc == 6;
  if ((argc != 5 && argc != 6) || !parse_mac(argv[4], dst_mac) || (both && !parse_mac(argv[5], back_mac))) {
    fprintf(stderr, "usage: ethfwd packet|vnet|ring|ringtx|tap IN OUT DST_MAC [DST_MAC_BACK]\n");
    return 2;
  }
  const char *mode = argv[1];
  if (!strcmp(mode, "vnet")) { vnet = 1; mode = "packet"; }
  if (!strcmp(mode, "tap") || !strcmp(mode, "packet")) {
    // Both directions when DST_MAC_BACK is given (for TCP through the forwarder).
    int tap = !strcmp(mode, "tap");
    int a = tap ? open_tap(argv[2]) : open_packet(argv[2]);
    int b = tap ? open_tap(argv[3]) : open_packet(argv[3]);
    uint8_t amac[6], bmac[6], fwd_mac[6];
    memcpy(fwd_mac, dst_mac, 6);
    ifindex_of(argv[2], amac);
    ifindex_of(argv[3], bmac);
    struct pollfd pfd[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = both ? POLLIN : 0 } };
    for (;;) {
      if (poll(pfd, 2, 1000) < 0 && errno != EINTR) die("poll");
      if (pfd[0].revents) forward_once(tap, a, b, fwd_mac, bmac);
      if (pfd[1].revents) forward_once(tap, b, a, back_mac, amac);
      if (truncated && truncated != reported) { reported = truncated; fprintf(stderr, "truncated frames: %ld\n", truncated); }
    }
  }
  int a = open_packet(argv[2]), b = open_packet(argv[3]);
  ifindex_of(argv[3], src_mac);
  struct pollfd pfd = { .fd = a, .events = POLLIN };
  if (strcmp(mode, "ring") && strcmp(mode, "ringtx")) { fprintf(stderr, "unknown mode %s\n", mode); return 2; }
  struct tpacket_req rreq, treq;
  map_ring(a, PACKET_RX_RING, &rreq);
  uint8_t *rx = mmap(NULL, (size_t)rreq.tp_block_size * rreq.tp_block_nr, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, a, 0);
  if (rx == MAP_FAILED) die("mmap rx");
  uint8_t *tx = NULL;
  int txi = 0;
  if (!strcmp(mode, "ringtx")) {
    map_ring(b, PACKET_TX_RING, &treq);
    tx = mmap(NULL, (size_t)treq.tp_block_size * treq.tp_block_nr, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, b, 0);
    if (tx == MAP_FAILED) die("mmap tx");
  }
  int rxi = 0;
  long txdrops = 0;
  for (;;) {
    struct tpacket2_hdr *h = (struct tpacket2_hdr *)(rx + (size_t)rxi * SLOT);
    if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
      if (poll(&pfd, 1, -1) < 0 && errno != EINTR) die("poll");
      continue;
    }
    int n = 0;
    while (n < BATCH) {
      h = (struct tpacket2_hdr *)(rx + (size_t)rxi * SLOT);
      if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
      lens[n] = h->tp_snaplen;
      memcpy(slots[n], (uint8_t *)h + h->tp_mac, h->tp_snaplen);
      __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      rxi = (rxi + 1) % RING_FRAMES;
      rewrite(slots[n]);
      n++;
    }
    if (!tx) { send_slots(b, n); continue; }
    for (int i = 0; i < n; i++) {
      struct tpacket2_hdr *t = (struct tpacket2_hdr *)(tx + (size_t)txi * SLOT);
      if (__atomic_load_n(&t->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) { txdrops++; continue; }
      uint8_t *data = (uint8_t *)t + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
      memcpy(data, slots[i], lens[i]);
      t->tp_len = lens[i];
      __atomic_store_n(&t->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
      txi = (txi + 1) % RING_FRAMES;
    }
    if (send(b, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS) die("send");
  }
}
