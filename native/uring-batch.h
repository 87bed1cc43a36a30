// A batch of TUN reads or writes as one io_uring submission (uring-batch.c).
#ifndef TUNROUTE_URING_BATCH_H
#define TUNROUTE_URING_BATCH_H

#include <stddef.h>
#include <stdint.h>

// Whether batches go through io_uring in this process (default on); off: one
// read()/write() a packet. Set before the first batch (a thread keeps the
// ring it made).
void uring_batch_enable(int on);

// 1 when this thread's batches go through io_uring; 0 when they go by
// read()/write() (switched off, or the kernel refused a ring: *why is its
// errno, 0 when switched off).
int uring_batch_active(int *why);

// Read up to `slots` packets from the non-blocking fd into slots of
// `slot_size` bytes at `base`, in arrival order; their lengths into
// `lengths`. The count read; *err: an errno other than EAGAIN, if any.
// -1: no ring in this thread (the caller reads the old way).
int uring_read_batch(int fd, uint8_t *base, size_t slot_size, int slots, int32_t *lengths, int *err);

// Write `count` packets (data + offs[i], lens[i] bytes each) to fd, in
// order; a packet the kernel refused gets −errno in lens[i]. The count
// written; -1: no ring in this thread (the caller writes the old way).
int uring_write_batch(int fd, const uint8_t *data, const int32_t *offs, int32_t *lens, int count);

#endif
