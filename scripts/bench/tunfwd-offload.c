// The ceiling for bulk TCP through a userspace TUN router: a minimal C
// forwarder between TUN A and TUN B, both directions, that decrements the
// TTL (incremental header checksum) and does nothing else.
//   tunfwd-offload [--offload] [--hdr 10|12] NS_A DEV_A NS_B DEV_B
// With --offload both TUNs are opened with IFF_VNET_HDR and TUNSETOFFLOAD
// (checksum, TSO4/6, TSO-ECN, USO when the kernel has it), so the kernels on
// either side hand over and take 64 KB TCP super-packets: each read is a
// virtio-net header plus up to 64 KB, passed on unchanged but for the TTL
// (the IPv4 header checksum is always complete; a partial TCP checksum
// stays partial and the receiving side completes or trusts it).
// Without --offload, plain IFF_TUN|IFF_NO_PI, and the offloads an earlier
// offload-mode reader left on a persistent device are switched off.
// On SIGTERM/SIGINT it prints per-direction counters (packets, bytes, how
// many were GSO super-packets) on stderr and exits.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

#define BATCH 64
#define SLOT (12 + 65536)

static int offload = 0;
static int hdr = 0; // virtio-net header bytes in front of each packet

static unsigned open_tun(const char *ns, const char *dev, int *out) {
  char path[256];
  snprintf(path, sizeof path, "/run/netns/%s", ns);
  int nsfd = open(path, O_RDONLY);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) { perror(path); exit(1); }
  close(nsfd);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
  strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) { perror(dev); exit(1); }
  unsigned got = 0;
  if (offload) {
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) { perror("TUNSETVNETHDRSZ"); exit(1); }
    unsigned want = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)want) == 0) got = want;
    else {
      want &= ~(TUN_F_USO4 | TUN_F_USO6);
      if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)want) < 0) { perror("TUNSETOFFLOAD"); exit(1); }
      got = want;
    }
  } else {
    (void)ioctl(fd, TUNSETOFFLOAD, 0UL);
  }
  *out = fd;
  return got;
}

// TTL - 1 with the RFC 1624 update of the TTL/protocol word; 0 = drop.
static int forward_ip(uint8_t *ip, ssize_t len) {
  if (len < 20 || (ip[0] >> 4) != 4) return 1; // not IPv4: pass (the bench has none)
  if (ip[8] <= 1) return 0;
  uint32_t sum = (uint16_t)~((ip[10] << 8) | ip[11]);
  sum += (uint16_t)~(ip[8] << 8) + ((ip[8] - 1) << 8);
  ip[8]--;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  sum = ~sum & 0xffff;
  ip[10] = sum >> 8;
  ip[11] = sum & 0xff;
  return 1;
}

struct dir { int from, to; unsigned long long pkts, bytes, gso, drops; };
static struct dir dirs[2];
static volatile sig_atomic_t stop = 0;
static void on_signal(int s) { (void)s; stop = 1; }

static uint8_t bufs[BATCH][SLOT];
static ssize_t lens[BATCH];

static void pump(struct dir *d) {
  int n = 0;
  while (n < BATCH) {
    ssize_t got = read(d->from, bufs[n], SLOT);
    if (got <= 0) break;
    lens[n++] = got;
  }
  for (int i = 0; i < n; i++) {
    if (lens[i] <= hdr || !forward_ip(bufs[i] + hdr, lens[i] - hdr)) { d->drops++; continue; }
    if (offload && bufs[i][1] != 0) d->gso++; // gso_type
    if (write(d->to, bufs[i], (size_t)lens[i]) < 0) { d->drops++; continue; }
    d->pkts++;
    d->bytes += (unsigned long long)(lens[i] - hdr);
  }
}

int main(int argc, char **argv) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "--offload")) { offload = 1; if (!hdr) hdr = 10; }
    else if (!strcmp(argv[i], "--hdr") && i + 1 < argc) hdr = atoi(argv[++i]);
    else break;
  }
  if (argc - i != 4 || (offload && hdr != 10 && hdr != 12)) {
    fprintf(stderr, "usage: tunfwd-offload [--offload] [--hdr 10|12] NS_A DEV_A NS_B DEV_B\n");
    return 2;
  }
  if (!offload) hdr = 0;
  int a, b;
  unsigned oa = open_tun(argv[i], argv[i + 1], &a);
  unsigned ob = open_tun(argv[i + 2], argv[i + 3], &b);
  fprintf(stderr, "tunfwd-offload: %s, offloads A 0x%x B 0x%x\n", offload ? "offload" : "plain", oa, ob);
  dirs[0] = (struct dir){ .from = a, .to = b };
  dirs[1] = (struct dir){ .from = b, .to = a };
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  struct pollfd pfd[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
  while (!stop) {
    if (poll(pfd, 2, -1) < 0) { if (errno == EINTR) continue; return 1; }
    if (pfd[0].revents & POLLIN) pump(&dirs[0]);
    if (pfd[1].revents & POLLIN) pump(&dirs[1]);
  }
  for (int k = 0; k < 2; k++) {
    fprintf(stderr, "%s: packets %llu bytes %llu gso %llu drops %llu\n", k ? "B->A" : "A->B",
            dirs[k].pkts, dirs[k].bytes, dirs[k].gso, dirs[k].drops);
  }
  return 0;
}
