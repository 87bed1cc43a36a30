// tunroute's TUN binding: a small Node-API addon.
//
// Why our own: tuntap2 (the design card's choice) is not in the registry here,
// and it reads through fs streams — one thread-pool read per packet, which caps
// throughput. Here the fd is non-blocking and watched by the event loop
// (uv_poll); on each wake-up we read() until EAGAIN or the batch is full, into
// fixed slots of one JS-owned ArrayBuffer, then make ONE call into JS with the
// packet count. Writes take (offset, length) lists into the same kind of buffer
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
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "addon.h"

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "EADDON", "tun addon: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

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
  char name[IFNAMSIZ];
  char netns[512];  // path of a netns file, or "" for the current namespace
  int mtu;          // 0 = leave as is
  int vnet_hdr_sz;  // > 0: open with IFF_VNET_HDR and this header size (offload mode)
  int multi_queue;  // open one queue of an IFF_MULTI_QUEUE device (every queue must say so)
  unsigned offloads; // offload mode: TUN_F_* wanted in; TUN_F_* the kernel accepted out
  int fd;           // result: the fd (open), 1/0 running (link check), -1 failed
  int err;          // errno on failure
  const char *step; // which step failed
} open_job;

// Move this thread (only this one: it exits right after) into the job's netns.
static int enter_netns(open_job *job) {
  if (!job->netns[0]) return 1;
  int nsfd = open(job->netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) { job->err = errno; job->step = "open netns"; return 0; }
  if (setns(nsfd, CLONE_NEWNET) < 0) { job->err = errno; job->step = "setns"; close(nsfd); return 0; }
  close(nsfd);
  return 1;
}

// Read (name, netnsPath) arguments into a job; 0 (with a JS exception) if bad.
static int job_args(napi_env env, napi_value name_v, napi_value netns_v, open_job *job) {
  memset(job, 0, sizeof *job);
  size_t n = 0;
  char name[64];
  if (napi_get_value_string_utf8(env, name_v, name, sizeof name, &n) != napi_ok ||
      napi_get_value_string_utf8(env, netns_v, job->netns, sizeof job->netns, NULL) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "expected (name: string, netnsPath: string)");
    return 0;
  }
  if (n == 0 || n >= IFNAMSIZ) {
    throw_errno(env, ENAMETOOLONG, "device name must be 1-15 bytes");
    return 0;
  }
  memcpy(job->name, name, n);
  return 1;
}

// Run fn(job) on a short-lived thread (so setns never touches the JS thread).
static int run_job(napi_env env, void *(*fn)(void *), open_job *job) {
  pthread_t th;
  int rc = pthread_create(&th, NULL, fn, job);
  if (rc != 0) {
    throw_errno(env, rc, "pthread_create");
    return 0;
  }
  pthread_join(th, NULL);
  return 1;
}

static void configure_link(open_job *job) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { job->err = errno; job->step = "socket"; return; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, job->name, strlen(job->name)); // name < IFNAMSIZ, checked by OpenTun
  if (job->mtu > 0) {
    ifr.ifr_mtu = job->mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) { job->err = errno; job->step = "set MTU"; close(s); return; }
  }
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { job->err = errno; job->step = "get flags"; close(s); return; }
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { job->err = errno; job->step = "set link up"; close(s); return; }
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
  if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) { job->err = errno; job->step = "TUNSETVNETHDRSZ"; return 0; }
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
  job->err = errno;
  job->step = "TUNSETOFFLOAD";
  return 0;
}

static void *open_in_thread(void *arg) {
  open_job *job = arg;
  job->fd = -1;
  if (!enter_netns(job)) return NULL;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) { job->err = errno; job->step = "open /dev/net/tun"; return NULL; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (job->vnet_hdr_sz > 0) ifr.ifr_flags |= IFF_VNET_HDR;
  if (job->multi_queue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  memcpy(ifr.ifr_name, job->name, strlen(job->name)); // name < IFNAMSIZ, checked by OpenTun
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { job->err = errno; job->step = "TUNSETIFF"; close(fd); return NULL; }
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
  if (job->err) { close(fd); job->fd = -1; }
  return NULL;
}

// linkRunning(name, netnsPath) -> whether the kernel has the link operational
// (IFF_RUNNING). After carrier on, the kernel re-activates the device's queue
// a little later (linkwatch); until then what it sends on it is dropped.
static void *flags_in_thread(void *arg) {
  open_job *job = arg;
  if (!enter_netns(job)) return NULL;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { job->err = errno; job->step = "socket"; return NULL; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, job->name, strlen(job->name));
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { job->err = errno; job->step = "get flags"; }
  else job->fd = (ifr.ifr_flags & IFF_RUNNING) ? 1 : 0;
  close(s);
  return NULL;
}

static napi_value LinkRunning(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  open_job job;
  if (!job_args(env, argv[0], argv[1], &job)) return NULL;
  job.fd = -1;
  if (!run_job(env, flags_in_thread, &job)) return NULL;
  if (job.fd < 0) return throw_errno(env, job.err ? job.err : EINVAL, job.step ? job.step : "link flags");
  napi_value out;
  CHECK(napi_get_boolean(env, job.fd == 1, &out));
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
  open_job job;
  if (!job_args(env, argv[0], argv[1], &job)) return NULL;
  CHECK(napi_get_value_int32(env, argv[2], &job.mtu));
  if (!multi_queue_arg(env, argc, argv, 3, &job)) return NULL;
  if (!run_job(env, open_in_thread, &job)) return NULL;
  if (job.fd < 0) {
    char what[128];
    snprintf(what, sizeof what, "%s (%s)", job.step ? job.step : "open", job.name);
    return throw_errno(env, job.err ? job.err : EINVAL, what);
  }
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
  open_job job;
  if (!job_args(env, argv[0], argv[1], &job)) return NULL;
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
  if (!run_job(env, open_in_thread, &job)) return NULL;
  if (job.fd < 0) {
    char what[128];
    snprintf(what, sizeof what, "%s (%s)", job.step ? job.step : "open", job.name);
    return throw_errno(env, job.err ? job.err : EINVAL, what);
  }
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

// writeBatch(fd, buf: ArrayBuffer|Uint8Array, offsets: Int32Array, lengths: Int32Array, count)
//   -> number of packets written; a packet the kernel refuses is skipped (its
//   negative errno goes in lengths[i] so the caller can count it as a drop).
static napi_value WriteBatch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd, count;
  uint8_t *data;
  size_t dlen, n1, n2;
  int32_t *offs, *lens;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (!get_bytes(env, argv[1], &data, &dlen) || !get_i32_array(env, argv[2], &offs, &n1) ||
      !get_i32_array(env, argv[3], &lens, &n2)) {
    napi_throw_type_error(env, "EINVAL", "writeBatch(fd, buffer, Int32Array, Int32Array, count)");
    return NULL;
  }
  CHECK(napi_get_value_int32(env, argv[4], &count));
  if (count < 0 || (size_t)count > n1 || (size_t)count > n2) {
    napi_throw_range_error(env, "ERANGE", "writeBatch: count out of range");
    return NULL;
  }
  int ok = 0;
  for (int i = 0; i < count; i++) {
    int32_t o = offs[i], l = lens[i];
    if (o < 0 || l <= 0 || (size_t)o + (size_t)l > dlen) { lens[i] = -EINVAL; continue; }
    ssize_t w;
    do { w = write(fd, data + o, (size_t)l); } while (w < 0 && errno == EINTR);
    if (w < 0) lens[i] = -errno; else ok++;
  }
  napi_value out;
  CHECK(napi_create_int32(env, ok, &out));
  return out;
}

// ---- batched reads on the event loop -----------------------------------------

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref buffer_ref;
  napi_ref lengths_ref;
  napi_async_context actx;
  uint8_t *base;      // first slot
  int32_t *lengths;   // out: packet length per slot
  size_t slot_size;
  int slots;
  int fd;
  int closing;
} reader;

static void on_closed(uv_handle_t *h) {
  reader *r = (reader *)h;
  napi_delete_reference(r->env, r->callback);
  napi_delete_reference(r->env, r->buffer_ref);
  napi_delete_reference(r->env, r->lengths_ref);
  napi_async_destroy(r->env, r->actx);
  free(r);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  reader *r = (reader *)p;
  if (r->closing) return;
  napi_env env = r->env;
  int n = 0;
  int err = 0;
  if (status < 0) err = -status;
  else {
    while (n < r->slots) {
      ssize_t got = read(r->fd, r->base + (size_t)n * r->slot_size, r->slot_size);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
        break;
      }
      r->lengths[n++] = (int32_t)got;
    }
  }
  if (n == 0 && err == 0) return;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, args[2], result;
  napi_get_reference_value(env, r->callback, &cb);
  napi_get_global(env, &recv);  // make_callback needs an object receiver
  napi_create_int32(env, n, &args[0]);
  napi_create_int32(env, err, &args[1]);
  // make_callback runs the microtask queue afterwards, like any libuv callback.
  napi_status st = napi_make_callback(env, r->actx, recv, cb, 2, args, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void reader_finalize(napi_env env, void *data, void *hint) { (void)env; (void)data; (void)hint; }

// startReader(fd, buf: ArrayBuffer, offset, slotSize, slots, lengths: Int32Array,
//             callback(count, errno)) -> handle (external)
static napi_value StartReader(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd, offset, slot_size, slots;
  uint8_t *data;
  size_t dlen, nlen;
  int32_t *lens;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (!get_bytes(env, argv[1], &data, &dlen) || !get_i32_array(env, argv[5], &lens, &nlen)) {
    napi_throw_type_error(env, "EINVAL", "startReader(fd, ArrayBuffer, offset, slotSize, slots, Int32Array, cb)");
    return NULL;
  }
  CHECK(napi_get_value_int32(env, argv[2], &offset));
  CHECK(napi_get_value_int32(env, argv[3], &slot_size));
  CHECK(napi_get_value_int32(env, argv[4], &slots));
  if (offset < 0 || slot_size <= 0 || slots <= 0 || (size_t)slots > nlen ||
      (size_t)offset + (size_t)slot_size * (size_t)slots > dlen) {
    napi_throw_range_error(env, "ERANGE", "startReader: slots do not fit the buffer");
    return NULL;
  }
  reader *r = calloc(1, sizeof *r);
  r->env = env;
  r->fd = fd;
  r->base = data + offset;
  r->lengths = lens;
  r->slot_size = (size_t)slot_size;
  r->slots = slots;
  CHECK(napi_create_reference(env, argv[6], 1, &r->callback));
  CHECK(napi_create_reference(env, argv[1], 1, &r->buffer_ref));
  CHECK(napi_create_reference(env, argv[5], 1, &r->lengths_ref));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "tunroute:tun-read", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &r->actx));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, &r->poll, fd);
  if (rc == 0) rc = uv_poll_start(&r->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    on_closed((uv_handle_t *)&r->poll);
    return throw_errno(env, -rc, "uv_poll");
  }
  napi_value ext;
  CHECK(napi_create_external(env, r, reader_finalize, NULL, &ext));
  return ext;
}

// stopReader(handle): stop watching; the fd stays open (the caller closes it).
static napi_value StopReader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader *r;
  CHECK(napi_get_value_external(env, argv[0], (void **)&r));
  if (r && !r->closing) {
    r->closing = 1;
    uv_poll_stop(&r->poll);
    uv_close((uv_handle_t *)&r->poll, on_closed);
  }
  return NULL;
}

// unrefReader(handle, ref: boolean): whether the watcher keeps the process alive.
static napi_value RefReader(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader *r;
  bool ref;
  CHECK(napi_get_value_external(env, argv[0], (void **)&r));
  CHECK(napi_get_value_bool(env, argv[1], &ref));
  if (r && !r->closing) {
    if (ref) uv_ref((uv_handle_t *)&r->poll); else uv_unref((uv_handle_t *)&r->poll);
  }
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"openTun", NULL, OpenTun, NULL, NULL, NULL, napi_default, NULL},
    {"openTunOffload", NULL, OpenTunOffload, NULL, NULL, NULL, napi_default, NULL},
    {"setCarrier", NULL, SetCarrier, NULL, NULL, NULL, napi_default, NULL},
    {"linkRunning", NULL, LinkRunning, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, CloseFd, NULL, NULL, NULL, napi_default, NULL},
    {"writeBatch", NULL, WriteBatch, NULL, NULL, NULL, napi_default, NULL},
    {"startReader", NULL, StartReader, NULL, NULL, NULL, napi_default, NULL},
    {"stopReader", NULL, StopReader, NULL, NULL, NULL, napi_default, NULL},
    {"refReader", NULL, RefReader, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return ether_init(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
