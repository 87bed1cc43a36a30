// tunroute's TUN binding: a small Node-API addon.
//
// Why our own: tuntap2 (the design card's choice) is not in the registry here,
// and it reads through fs streams — one thread-pool read per packet, which caps
// throughput. Here the fd is non-blocking and watched by the event loop
// (uv_poll, reader.c: the watcher Ethernet ports use too); on each wake-up we
// read() until EAGAIN or the batch is full, into fixed slots of one JS-owned
// ArrayBuffer, then make ONE call into JS with the packet count. Writes take (offset, length) lists into the same kind of buffer
// and loop write() in C, so JS makes one native call per batch.
//
// A TUN may be opened inside another network namespace: the open (and the
// link configuration: MTU, up) runs on a short-lived thread that setns()es
// into the target namespace, so the daemon's own thread never changes netns.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "addon.h"
#include "reader.h"
#include "uring-batch.h"

napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[320];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = "EUNKNOWN";
  switch (err) {
    case ENOENT: code = "ENOENT"; break;
    case EPERM: code = "EPERM"; break;
    case EACCES: code = "EACCES"; break;
    case EBUSY: code = "EBUSY"; break;
    case EINVAL: code = "EINVAL"; break;
    case ENODEV: code = "ENODEV"; break;
    case EEXIST: code = "EEXIST"; break;
    case ENAMETOOLONG: code = "ENAMETOOLONG"; break;
    case EBADF: code = "EBADF"; break;
  }
  napi_throw_error(env, code, msg);
  return NULL;
}

// ---- open (optionally inside another netns) ---------------------------------

typedef struct {
  netns_job base;   // the interface, its namespace, the failed step
  int mtu;          // 0 = leave as is
  int vnet_hdr_sz;  // > 0: open with IFF_VNET_HDR and this header size (offload mode)
  int multi_queue;  // open one queue of an IFF_MULTI_QUEUE device (every queue must say so)
  unsigned offloads; // offload mode: TUN_F_* wanted in; TUN_F_* the kernel accepted out
  int fd;           // result: the fd (open), 1/0 running (link check), -1 failed
} open_job;

static void configure_link(open_job *job) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { job_fail(&job->base, "socket"); return; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, job->base.name, strlen(job->base.name)); // name < IFNAMSIZ, checked by OpenTun
  if (job->mtu > 0) {
    ifr.ifr_mtu = job->mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) { job_fail(&job->base, "set MTU"); close(s); return; }
  }
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { job_fail(&job->base, "get flags"); close(s); return; }
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { job_fail(&job->base, "set link up"); close(s); return; }
  close(s);
}

// ---- offload mode (IFF_VNET_HDR) ---------------------------------------------
//
// Every read and write carries a struct virtio_net_hdr (10 bytes, or 12 with
// num_buffers) in front of the IP packet, and with TUNSETOFFLOAD the kernel
// side may hand us (and take from us) TCP/UDP super-packets of up to 64 KB
// with a partial checksum: the GSO of the kernel's own TCP is not undone on
// the way through the router. The bookworm uapi headers predate USO.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

// Header size, little-endian header fields on any host, then the widest
// subset of the wanted offloads the kernel takes: it refuses a whole set that
// holds a flag it does not know (EINVAL), so drop USO, then TSO_ECN, then
// UFO, then everything but CSUM, then CSUM.
static int set_offloads(int fd, open_job *job) {
  int sz = job->vnet_hdr_sz;
  if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) { job_fail(&job->base, "TUNSETVNETHDRSZ"); return 0; }
  int le = 1;
  (void)ioctl(fd, TUNSETVNETLE, &le); // native order on little-endian hosts anyway
  unsigned want = job->offloads;
  const unsigned drops[] = {
    TUN_F_USO4 | TUN_F_USO6, TUN_F_TSO_ECN, TUN_F_UFO, TUN_F_TSO4 | TUN_F_TSO6, TUN_F_CSUM,
  };
  for (size_t i = 0;; i++) {
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)want) == 0) { job->offloads = want; return 1; }
    if (errno != EINVAL || i == sizeof drops / sizeof drops[0]) break;
    want &= ~drops[i];
  }
  return job_fail(&job->base, "TUNSETOFFLOAD");
}

static void *open_in_thread(void *arg) {
  open_job *job = arg;
  job->fd = -1;
  if (!job_enter_netns(&job->base)) return NULL;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) { job_fail(&job->base, "open /dev/net/tun"); return NULL; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (job->vnet_hdr_sz > 0) ifr.ifr_flags |= IFF_VNET_HDR;
  if (job->multi_queue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  memcpy(ifr.ifr_name, job->base.name, strlen(job->base.name)); // name < IFNAMSIZ, checked by OpenTun
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { job_fail(&job->base, "TUNSETIFF"); close(fd); return NULL; }
  if (job->vnet_hdr_sz > 0) {
    if (!set_offloads(fd, job)) { close(fd); return NULL; }
  } else {
    // A persistent device keeps the offloads an earlier offload-mode reader
    // set; without a virtio-net header we could not tell its super-packets
    // and partial checksums from plain packets, so switch them off.
    unsigned long none = 0;
    (void)ioctl(fd, TUNSETOFFLOAD, none);
  }
  job->fd = fd;
  configure_link(job);
  if (job->base.err) { close(fd); job->fd = -1; }
  return NULL;
}

// linkRunning(name, netnsPath) -> whether the kernel has the link operational
// (IFF_RUNNING). After carrier on, the kernel re-activates the device's queue
// a little later (linkwatch); until then what it sends on it is dropped.
static void *flags_in_thread(void *arg) {
  open_job *job = arg;
  if (!job_enter_netns(&job->base)) return NULL;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { job_fail(&job->base, "socket"); return NULL; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, job->base.name, strlen(job->base.name));
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { job_fail(&job->base, "get flags"); }
  else job->fd = (ifr.ifr_flags & IFF_RUNNING) ? 1 : 0;
  close(s);
  return NULL;
}

static napi_value LinkRunning(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  open_job job = {0};
  if (!job_args(env, argv[0], argv[1], &job.base)) return NULL;
  job.fd = -1;
  if (!job_run(env, flags_in_thread, &job)) return NULL;
  if (job.fd < 0) return throw_errno(env, job.base.err ? job.base.err : EINVAL, job.base.step ? job.base.step : "link flags");
  napi_value out;
  CHECK(napi_get_boolean(env, job.fd == 1, &out));
  return out;
}

// txDropped(name, netnsPath) -> the interface's tx_dropped (RTM_GETLINK,
// IFLA_STATS64). For a TUN that is what the kernel could not hand to the
// reader: its queue was full, no queue of it was open, or its carrier
// was off (checked: a TUN with no reader counts what is sent into it).
typedef struct {
  netns_job base;
  double tx_dropped;  // result, or -1
} stats_job;

static void *stats_in_thread(void *arg) {
  stats_job *job = arg;
  if (!job_enter_netns(&job->base)) return NULL;
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) { job_fail(&job->base, "netlink socket"); return NULL; }
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
    char attrs[RTA_SPACE(IFNAMSIZ)];
  } req;
  memset(&req, 0, sizeof req);
  size_t nlen = strlen(job->base.name) + 1;
  struct rtattr *name = (struct rtattr *)req.attrs;
  name->rta_type = IFLA_IFNAME;
  name->rta_len = RTA_LENGTH(nlen);
  memcpy(RTA_DATA(name), job->base.name, nlen);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi) + RTA_ALIGN(name->rta_len);
  req.nh.nlmsg_type = RTM_GETLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.ifi.ifi_family = AF_UNSPEC;
  uint32_t reply[8192];  // 32 KB, aligned for the netlink headers
  ssize_t got = -1;
  if (send(s, &req, req.nh.nlmsg_len, 0) < 0) job_fail(&job->base, "netlink send");
  else if ((got = recv(s, reply, sizeof reply, 0)) < 0) job_fail(&job->base, "netlink receive");
  close(s);
  if (got < 0) return NULL;
  struct nlmsghdr *nh = (struct nlmsghdr *)reply;
  if (!NLMSG_OK(nh, (unsigned)got)) { errno = EIO; job_fail(&job->base, "netlink reply"); return NULL; }
  if (nh->nlmsg_type == NLMSG_ERROR) {
    errno = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
    job_fail(&job->base, "RTM_GETLINK");
    return NULL;
  }
  struct ifinfomsg *ifi = NLMSG_DATA(nh);
  int left = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof *ifi);
  for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type != IFLA_STATS64 || RTA_PAYLOAD(a) < offsetof(struct rtnl_link_stats64, tx_dropped) + sizeof(__u64)) continue;
    struct rtnl_link_stats64 st;
    memset(&st, 0, sizeof st);
    memcpy(&st, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof st ? RTA_PAYLOAD(a) : sizeof st);
    job->tx_dropped = (double)st.tx_dropped;
    return NULL;
  }
  errno = ENODATA;
  job_fail(&job->base, "IFLA_STATS64");
  return NULL;
}

static napi_value TxDropped(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  stats_job job = {0};
  if (!job_args(env, argv[0], argv[1], &job.base)) return NULL;
  job.tx_dropped = -1;
  if (!job_run(env, stats_in_thread, &job)) return NULL;
  if (job.tx_dropped < 0) return job_error(env, &job.base);
  napi_value out;
  CHECK(napi_create_double(env, job.tx_dropped, &out));
  return out;
}

// An optional trailing boolean argument: open a queue of a multi-queue device.
static int multi_queue_arg(napi_env env, size_t argc, napi_value *argv, size_t at, open_job *job) {
  bool mq = false;
  if (argc > at && napi_get_value_bool(env, argv[at], &mq) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "multiQueue must be a boolean");
    return 0;
  }
  job->multi_queue = mq;
  return 1;
}

// openTun(name: string, netnsPath: string, mtu: number, multiQueue?: boolean) -> fd
static napi_value OpenTun(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  open_job job = {0};
  if (!job_args(env, argv[0], argv[1], &job.base)) return NULL;
  CHECK(napi_get_value_int32(env, argv[2], &job.mtu));
  if (!multi_queue_arg(env, argc, argv, 3, &job)) return NULL;
  if (!job_run(env, open_in_thread, &job)) return NULL;
  if (job.fd < 0) return job_error(env, &job.base);
  napi_value out;
  CHECK(napi_create_int32(env, job.fd, &out));
  return out;
}

// openTunOffload(name, netnsPath, mtu, vnetHdrSize: 10|12, wanted: TUN_F_* mask, multiQueue?)
//   -> [fd, accepted TUN_F_* mask]
static napi_value OpenTunOffload(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  open_job job = {0};
  if (!job_args(env, argv[0], argv[1], &job.base)) return NULL;
  uint32_t wanted;
  CHECK(napi_get_value_int32(env, argv[2], &job.mtu));
  CHECK(napi_get_value_int32(env, argv[3], &job.vnet_hdr_sz));
  CHECK(napi_get_value_uint32(env, argv[4], &wanted));
  if (job.vnet_hdr_sz != 10 && job.vnet_hdr_sz != 12) {
    napi_throw_range_error(env, "ERANGE", "openTunOffload: vnetHdrSize must be 10 or 12");
    return NULL;
  }
  job.offloads = wanted;
  if (!multi_queue_arg(env, argc, argv, 5, &job)) return NULL;
  if (!job_run(env, open_in_thread, &job)) return NULL;
  if (job.fd < 0) return job_error(env, &job.base);
  napi_value out, fd_v, off_v;
  CHECK(napi_create_array_with_length(env, 2, &out));
  CHECK(napi_create_int32(env, job.fd, &fd_v));
  CHECK(napi_create_uint32(env, job.offloads, &off_v));
  CHECK(napi_set_element(env, out, 0, fd_v));
  CHECK(napi_set_element(env, out, 1, off_v));
  return out;
}

// ---- fd ioctls ---------------------------------------------------------------

// setCarrier(fd, on): the kernel-side neighbour sees NO-CARRIER when off.
static napi_value SetCarrier(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  bool on;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_bool(env, argv[1], &on));
  int v = on ? 1 : 0;
  if (ioctl(fd, TUNSETCARRIER, &v) < 0) return throw_errno(env, errno, "TUNSETCARRIER");
  return NULL;
}

static napi_value CloseFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  close(fd);
  return NULL;
}

// ---- writes ------------------------------------------------------------------

int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (is_ab) return napi_get_arraybuffer_info(env, v, (void **)data, len) == napi_ok;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, (void **)data, &ab, &off) != napi_ok) return 0;
  return 1;
}

int get_i32_array(napi_env env, napi_value v, int32_t **data, size_t *len) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, (void **)data, &ab, &off) != napi_ok) return 0;
  return t == napi_int32_array;
}

// ---- the per-packet system calls ---------------------------------------------
//
// read() and write() through syscall(): in a process with more than one
// thread (Node always is) glibc's read() and write() are cancellation points
// that switch the thread's cancel type around the call (two atomic updates
// each); nothing here uses thread cancellation, and per 64-byte packet that
// was ~4 % of the router's CPU in a profile of the forwarding bench.
static inline ssize_t packet_read(int fd, void *buf, size_t len) { return syscall(SYS_read, fd, buf, len); }
static inline ssize_t packet_write(int fd, const void *buf, size_t len) { return syscall(SYS_write, fd, buf, len); }

int write_parse(napi_env env, napi_value *argv, const char *name, write_args *w) {
  char msg[160];
  size_t n1, n2;
  if (napi_get_value_int32(env, argv[0], &w->fd) != napi_ok || !get_bytes(env, argv[1], &w->data, &w->data_len) ||
      !get_i32_array(env, argv[2], &w->offs, &n1) || !get_i32_array(env, argv[3], &w->lens, &n2) ||
      napi_get_value_int32(env, argv[4], &w->count) != napi_ok) {
    snprintf(msg, sizeof msg, "%s(fd, buffer, Int32Array, Int32Array, count)", name);
    napi_throw_type_error(env, "EINVAL", msg);
    return 0;
  }
  if (w->count < 0 || (size_t)w->count > n1 || (size_t)w->count > n2) {
    snprintf(msg, sizeof msg, "%s: count out of range", name);
    napi_throw_range_error(env, "ERANGE", msg);
    return 0;
  }
  return 1;
}

// Whether packet i of a write is a non-empty range inside the buffer.
static int in_buffer(const write_args *a, int i) {
  int32_t o = a->offs[i], l = a->lens[i];
  return o >= 0 && l > 0 && (size_t)o + (size_t)l <= a->data_len;
}

// writeBatch(fd, buf: ArrayBuffer|Uint8Array, offsets: Int32Array, lengths: Int32Array, count)
//   -> number of packets written; a packet the kernel refuses is skipped (its
//   negative errno goes in lengths[i] so the caller can count it as a drop).
static napi_value WriteBatch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  write_args a;
  if (!write_parse(env, argv, "writeBatch", &a)) return NULL;
  int bad = 0;
  for (int i = 0; i < a.count && !bad; i++) bad = !in_buffer(&a, i);
  int ok = bad ? -1 : uring_write_batch(a.fd, a.data, a.offs, a.lens, a.count);
  if (ok >= 0) {
    napi_value out;
    CHECK(napi_create_int32(env, ok, &out));
    return out;
  }
  ok = 0;
  for (int i = 0; i < a.count; i++) {
    if (!in_buffer(&a, i)) { a.lens[i] = -EINVAL; continue; }
    int32_t o = a.offs[i], l = a.lens[i];
    ssize_t w;
    do { w = packet_write(a.fd, a.data + o, (size_t)l); } while (w < 0 && errno == EINTR);
    if (w < 0) a.lens[i] = -errno; else ok++;
  }
  napi_value out;
  CHECK(napi_create_int32(env, ok, &out));
  return out;
}

// ---- batched reads on the event loop (reader.c) ---------------------------------

// A TUN's reader: how many reads to ask io_uring for at once. Twice the last
// batch (at least MIN_AHEAD): a full batch under load, a few when packets
// come one by one — each read that finds the queue empty still costs a trip
// through the TUN code.
#define MIN_AHEAD 4
typedef struct {
  batch_reader r;
  int ahead;
} tun_reader;

// read() until EAGAIN or the batch is full.
static int fill_by_read(batch_reader *r, int n, int *err) {
  while (n < r->slots) {
    ssize_t got = packet_read(r->fd, r->base + (size_t)n * r->slot_size, r->slot_size);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) *err = errno;
      break;
    }
    r->lengths[n++] = (int32_t)got;
  }
  return n;
}

// A TUN's batch: io_uring submissions of `ahead` reads (uring-batch.c) until
// one comes back short or the batch is full; without a ring, read().
static int tun_fill(batch_reader *r, int *err) {
  tun_reader *t = (tun_reader *)r;
  int n = 0;
  while (n < r->slots) {
    int want = r->slots - n < t->ahead ? r->slots - n : t->ahead;
    int got = uring_read_batch(r->fd, r->base + (size_t)n * r->slot_size, r->slot_size, want, r->lengths + n, err);
    if (got < 0) return fill_by_read(r, n, err);
    n += got;
    if (got < want || *err) break;
    if (t->ahead < r->slots) t->ahead *= 2;
  }
  t->ahead = 2 * n < MIN_AHEAD ? MIN_AHEAD : 2 * n > r->slots ? r->slots : 2 * n;
  return n;
}

// startReader(fd, buf: ArrayBuffer, offset, slotSize, slots, lengths: Int32Array,
//             callback(count, errno)) -> handle (external)
static napi_value StartReader(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_args a;
  if (!reader_parse(env, argv, "startReader", &a)) return NULL;
  batch_reader *r = reader_alloc(sizeof(tun_reader), &a);
  if (!r) return throw_errno(env, ENOMEM, "startReader");
  ((tun_reader *)r)->ahead = MIN_AHEAD;
  r->fill = tun_fill;
  return reader_start(env, r, argv, "tunroute:tun-read");
}

// setIoUring(on): batches through io_uring (default) or one read()/write() a packet; set before the first batch.
static napi_value SetIoUring(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "setIoUring(boolean)");
    return NULL;
  }
  uring_batch_enable(on);
  return NULL;
}

// ioUring() -> 0 when this thread's batches go through io_uring; else the
// errno the kernel refused a ring with, or -1 when switched off.
static napi_value IoUring(napi_env env, napi_callback_info info) {
  int why;
  int active = uring_batch_active(&why);
  napi_value out;
  CHECK(napi_create_int32(env, active ? 0 : why == 0 ? -1 : why, &out));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"openTun", NULL, OpenTun, NULL, NULL, NULL, napi_default, NULL},
    {"openTunOffload", NULL, OpenTunOffload, NULL, NULL, NULL, napi_default, NULL},
    {"setCarrier", NULL, SetCarrier, NULL, NULL, NULL, napi_default, NULL},
    {"linkRunning", NULL, LinkRunning, NULL, NULL, NULL, napi_default, NULL},
    {"txDropped", NULL, TxDropped, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, CloseFd, NULL, NULL, NULL, napi_default, NULL},
    {"writeBatch", NULL, WriteBatch, NULL, NULL, NULL, napi_default, NULL},
    {"startReader", NULL, StartReader, NULL, NULL, NULL, napi_default, NULL},
    {"stopReader", NULL, StopReader, NULL, NULL, NULL, napi_default, NULL},  // both port kinds' readers (reader.c)
    {"refReader", NULL, RefReader, NULL, NULL, NULL, napi_default, NULL},
    {"setIoUring", NULL, SetIoUring, NULL, NULL, NULL, napi_default, NULL},
    {"ioUring", NULL, IoUring, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return ether_init(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
