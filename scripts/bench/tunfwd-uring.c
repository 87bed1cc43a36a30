// The TUN→TUN forwarder of tunfwd.c with its system calls batched through
// io_uring: one io_uring_enter a batch submits the last batch's writes and
// the next batch's reads (64, RWF_NOWAIT: a read that finds the queue empty
// ends with EAGAIN at once). The ceiling for a TUN router that batches its
// system calls as tunroute does (native/uring-batch.c).
//   tunfwd-uring NETNS_A DEV_A NETNS_B DEV_B
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "plain-tun.h"

#define BATCH 64

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
