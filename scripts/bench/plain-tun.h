// Open a plain TUN (IFF_TUN | IFF_NO_PI, non-blocking) in a named network
// namespace: the C forwarders' one way in (tunfwd.c, tunfwd-uring.c). The
// calling thread stays in that namespace.
#ifndef TUNROUTE_BENCH_PLAIN_TUN_H
#define TUNROUTE_BENCH_PLAIN_TUN_H

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

#endif
