// TUN reads and writes a batch at a time through io_uring.
//
// A TUN takes one packet per read() or write(), so a batch of 64 packets
// costs ~130 system calls the old way. On this project's machine (a
// paravirtualised guest) their entries and exits were most of what a small
// packet cost: the plain C loop's kernel time 2.9 µs a 64-byte packet, the
// same loop batching through io_uring 1.1 µs (README "Batched system
// calls"). Submitted as io_uring requests, a batch's reads
// (or writes) are one io_uring_enter; the kernel runs each request at once
// (RWF_NOWAIT: a read with nothing queued ends with EAGAIN — without it
// io_uring would park the read until a packet comes), in order, in this
// thread — the same TUN code as read()
// and write(), without the crossings.
//
// Each thread that reads or writes (the daemon's, each forwarding worker)
// has a ring of its own, made at its first batch and closed when the
// thread ends. Where the kernel refuses a ring (io_uring switched off by
// sysctl, a seccomp profile that forbids it) the thread falls
// back to read()/write().
#include "uring-batch.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

// Room for a receive batch (64) or a transmit queue's flush (256) in one submission.
#define RING_ENTRIES 256

typedef struct {
  struct io_uring ring;
  int error;  // errno of a failed setup (0: the ring is there)
  int refused;  // the kernel refused a TUN request (EOPNOTSUPP: a TUN without RWF_NOWAIT): read()/write() from then on
} thread_ring;

static int enabled = 1;
static pthread_key_t ring_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void ring_free(void *p) {
  thread_ring *t = p;
  if (t->error == 0) io_uring_queue_exit(&t->ring);
  free(t);
}

static void make_key(void) { pthread_key_create(&ring_key, ring_free); }

void uring_batch_enable(int on) { enabled = on; }

// This thread's ring; NULL when switched off or refused.
static struct io_uring *thread_ring_get(void) {
  if (!enabled) return NULL;
  pthread_once(&key_once, make_key);
  thread_ring *t = pthread_getspecific(ring_key);
  if (!t) {
    t = calloc(1, sizeof *t);
    if (!t) return NULL;
    // One thread submits and reaps, right after each submission; SUBMIT_ALL:
    // a request the kernel refuses ends in its own completion, not the submission.
    int rc = io_uring_queue_init(RING_ENTRIES, &t->ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL);
    if (rc == -EINVAL) rc = io_uring_queue_init(RING_ENTRIES, &t->ring, 0);  // a kernel before 6.0
    t->error = rc < 0 ? -rc : 0;
    pthread_setspecific(ring_key, t);
  }
  return t->error == 0 && !t->refused ? &t->ring : NULL;
}

// Whether all `n` results say the ring cannot do TUN requests at all (a
// kernel whose TUN has no RWF_NOWAIT): then this thread goes back to
// read()/write(), and none of them was carried out.
static int refused(const int32_t *res, int n) {
  for (int i = 0; i < n; i++) if (res[i] != -EOPNOTSUPP) return 0;
  thread_ring *t = pthread_getspecific(ring_key);
  if (t) t->refused = 1;
  return 1;
}

int uring_batch_active(int *why) {
  *why = 0;
  if (!enabled) return 0;
  if (thread_ring_get()) return 1;
  thread_ring *t = pthread_getspecific(ring_key);
  *why = !t ? ENOMEM : t->refused ? EOPNOTSUPP : t->error;
  return 0;
}

// Submit the `n` queued requests and take their completions: result[user_data] = res.
static int submit_and_reap(struct io_uring *ring, int n, int32_t *result) {
  for (int i = 0; i < n; i++) result[i] = -EIO;
  int rc;
  do rc = io_uring_submit_and_wait(ring, (unsigned)n); while (rc == -EINTR);
  if (rc < 0) return rc;
  for (int done = 0; done < n;) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(ring, head, cqe) {
      result[cqe->user_data] = cqe->res;
      seen++;
    }
    io_uring_cq_advance(ring, seen);
    done += (int)seen;
    if (done < n && (rc = io_uring_wait_cqe(ring, &cqe)) < 0 && rc != -EINTR) return rc;
  }
  return 0;
}

int uring_read_batch(int fd, uint8_t *base, size_t slot_size, int slots, int32_t *lengths, int *err) {
  struct io_uring *ring = thread_ring_get();
  if (!ring) return -1;
  if (slots > RING_ENTRIES) slots = RING_ENTRIES;
  for (int i = 0; i < slots; i++) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_read(sqe, fd, base + (size_t)i * slot_size, (unsigned)slot_size, 0);
    sqe->rw_flags = RWF_NOWAIT;  // nothing queued: EAGAIN now, not a read parked until a packet comes
    sqe->user_data = (uint64_t)i;
  }
  int rc = submit_and_reap(ring, slots, lengths);
  if (rc < 0) {
    *err = -rc;
    return 0;
  }
  if (refused(lengths, slots)) return -1;
  // In arrival order, without gaps: a packet queued while the batch ran may
  // land in a slot after one that found the queue empty (EAGAIN).
  int n = 0;
  for (int i = 0; i < slots; i++) {
    int32_t got = lengths[i];
    if (got < 0) {
      if (got != -EAGAIN && got != -EINTR && *err == 0) *err = -got;
      continue;
    }
    if (n != i) memcpy(base + (size_t)n * slot_size, base + (size_t)i * slot_size, (size_t)got);
    lengths[n++] = got;
  }
  return n;
}

int uring_write_batch(int fd, const uint8_t *data, const int32_t *offs, int32_t *lens, int count) {
  struct io_uring *ring = thread_ring_get();
  if (!ring) return -1;
  int ok = 0;
  for (int start = 0; start < count; start += RING_ENTRIES) {
    int n = count - start < RING_ENTRIES ? count - start : RING_ENTRIES;
    for (int i = 0; i < n; i++) {
      struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
      io_uring_prep_write(sqe, fd, data + offs[start + i], (unsigned)lens[start + i], 0);
      sqe->rw_flags = RWF_NOWAIT;
      sqe->user_data = (uint64_t)i;
    }
    int32_t res[RING_ENTRIES];
    int rc = submit_and_reap(ring, n, res);
    if (start == 0 && rc == 0 && refused(res, n)) return -1;  // the caller writes them all
    for (int i = 0; i < n; i++) {
      if (rc < 0) lens[start + i] = rc;
      else if (res[i] < 0) lens[start + i] = res[i];
      else ok++;
    }
  }
  return ok;
}
