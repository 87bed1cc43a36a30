// The TUN→TUN forwarder of tunfwd.c with its system calls batched through
// io_uring: one io_uring_enter a batch submits the last batch's writes and
// the next batch's reads (64, RWF_NOWAIT: a read that finds the queue empty
// ends with EAGAIN at once). The ceiling for a TUN router that batches its
// system calls as tunroute does (native/uring-batch.c).
//   tunfwd-uring NETNS_A DEV_A NETNS_B DEV_B
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define BATCH 64

static int open_tun(const char *ns, const char *dev) {
  char path[256];
  snprintf(path, sizeof path, "/run/netns/%s", ns);
  int nsfd = open(path, O_RDONLY);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) { perror(path); return -1; }
  close(nsfd);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) { perror(dev); return -1; }
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: tunfwd-uring NS_A DEV_A NS_B DEV_B\n"); return 2; }
  int a = open_tun(argv[1], argv[2]);
  int b = open_tun(argv[3], argv[4]);
  if (a < 0 || b < 0) return 1;
  struct io_uring ring;
  int rc = io_uring_queue_init(2 * BATCH, &ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN);
  if (rc < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-rc)); return 1; }
  // Two halves: reads fill one while the other's packets are written (the writes go first in the submission).
  static char bufs[2 * BATCH][2048];
  int lens[2 * BATCH];
  struct pollfd pfd = { .fd = a, .events = POLLIN };
  int half = 0, writes = 0;
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      struct io_uring_sqe *s = io_uring_get_sqe(&ring);
      io_uring_prep_read(s, a, bufs[half * BATCH + i], sizeof bufs[0], 0);
      s->rw_flags = RWF_NOWAIT;
      s->user_data = (uint64_t)(half * BATCH + i) | 1ull << 32;
    }
    io_uring_submit_and_wait(&ring, (unsigned)(BATCH + writes));
    struct io_uring_cqe *c;
    unsigned head, seen = 0;
    int got = 0;
    io_uring_for_each_cqe(&ring, head, c) {
      seen++;
      if (c->user_data >> 32) {
        lens[c->user_data & 0xffffffff] = c->res;
        if (c->res > 0) got++;
      }
    }
    io_uring_cq_advance(&ring, seen);
    writes = 0;
    if (got == 0) {  // nothing read (and nothing left to write): wait for the fd
      if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return 1;
      continue;
    }
    for (int i = half * BATCH; i < (half + 1) * BATCH; i++) {
      if (lens[i] <= 0) continue;
      struct io_uring_sqe *s = io_uring_get_sqe(&ring);
      io_uring_prep_write(s, b, bufs[i], (unsigned)lens[i], 0);
      s->user_data = (uint64_t)i;
      writes++;
    }
    half ^= 1;
  }
}
