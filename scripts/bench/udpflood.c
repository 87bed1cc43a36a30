// Traffic generator for the forwarding benchmark: blasts UDP datagrams of a
// given IP size at one address with sendmmsg() for a number of seconds, then
// prints how many it sent. Runs inside the sender namespace.
//   udpflood DST_ADDR IP_PACKET_SIZE SECONDS [PACKETS_PER_SECOND [FLOWS]]
// FLOWS (default 1): that many sockets (source ports), a burst from each in
// turn — flows a multi-queue router can spread over its queues. A rate of 0
// means as fast as it can.
// With a rate, it paces bursts to that many packets per second and also
// prints the nanoseconds it spent on a CPU (its own stack and whatever the
// kernel did in its context: on a veth, the receiving side's softirq work).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 6) { fprintf(stderr, "usage: udpflood DST SIZE SECONDS [PPS [FLOWS]]\n"); return 2; }
  double rate = argc >= 5 ? atof(argv[4]) : 0;
  int flows = argc == 6 ? atoi(argv[5]) : 1;
  if (flows < 1 || flows > 256) { fprintf(stderr, "bad flows\n"); return 2; }
  int size = atoi(argv[2]);
  double secs = atof(argv[3]);
  int payload = size - 28;
  if (payload < 0 || payload > 65000) { fprintf(stderr, "bad size\n"); return 2; }
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9) };
  inet_pton(AF_INET, argv[1], &dst.sin_addr);
  int socks[256];
  for (int f = 0; f < flows; f++) {
    socks[f] = socket(AF_INET, SOCK_DGRAM, 0);
    if (connect(socks[f], (struct sockaddr *)&dst, sizeof dst) < 0) { perror("connect"); return 1; }
    int sndbuf = 4 << 20;
    setsockopt(socks[f], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  }
  int turn = 0;
  char *buf = calloc(1, payload + 1);
  struct mmsghdr msgs[BURST];
  struct iovec iov[BURST];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BURST; i++) {
    iov[i].iov_base = buf;
    iov[i].iov_len = payload;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  long sent = 0;
  double start = now(), end = start + secs;
  while (now() < end) {
    if (rate > 0) {
      // Wait until this burst is due.
      double due = start + sent / rate;
      double t = now();
      if (due > t) {
        struct timespec ts = { (time_t)(due - t), (long)(((due - t) - (time_t)(due - t)) * 1e9) };
        nanosleep(&ts, NULL);
      }
    }
    int n = sendmmsg(socks[turn], msgs, BURST, 0);
    turn = (turn + 1) % flows;
    if (n > 0) sent += n;
  }
  if (rate > 0) {
    unsigned long long on_cpu = 0;
    FILE *f = fopen("/proc/self/schedstat", "r");
    if (f) { if (fscanf(f, "%llu", &on_cpu) != 1) on_cpu = 0; fclose(f); }
    printf("%ld %llu\n", sent, on_cpu);
  } else {
    printf("%ld\n", sent);
  }
  return 0;
}
