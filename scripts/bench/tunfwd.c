// The ceiling for a userspace TUN router: a minimal C forwarder that moves
// every packet from TUN A (in one namespace) to TUN B (in another) — read
// until EAGAIN, then write — with no parsing at all.
//   tunfwd NETNS_A DEV_A NETNS_B DEV_B
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "plain-tun.h"

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: tunfwd NS_A DEV_A NS_B DEV_B\n"); return 2; }
  int a = open_tun(argv[1], argv[2]);
  int b = open_tun(argv[3], argv[4]);
  if (a < 0 || b < 0) return 1;
  static char bufs[64][2048];
  ssize_t lens[64];
  struct pollfd pfd = { .fd = a, .events = POLLIN };
  for (;;) {
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return 1;
    int n = 0;
    while (n < 64 && (lens[n] = read(a, bufs[n], sizeof bufs[n])) > 0) n++;
    for (int i = 0; i < n; i++) (void)!write(b, bufs[i], lens[i]);
  }
}
