// The batch reader the TUN (tun.c) and AF_PACKET (ether.c) ports share: a
// non-blocking fd watched by the event loop (uv_poll); on each wake-up the
// port kind's fill() puts up to `slots` packets into fixed slots of one
// JS-owned buffer, then ONE call into JS with (count, errno). An idle handle
// keeps calling fill() while the kind has packets waiting that the fd will
// not wake us for (the staged segments of an AF_PACKET super-frame).
#ifndef TUNROUTE_READER_H
#define TUNROUTE_READER_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct batch_reader batch_reader;

struct batch_reader {
  uv_poll_t poll;
  uv_idle_t idle;
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
  int handles_open;
  int idle_on;
  // The port kind's part (a kind embeds this struct first):
  // fill the slots from slot 0 (the count; *err on a read error);
  int (*fill)(batch_reader *r, int *err);
  // packets waiting without a wake-up of the fd (NULL: never);
  int (*more)(batch_reader *r);
  // on a POLLERR, take the socket's error and watch again (1), or report the watcher's error (0);
  int socket_errors;
  // free what the kind allocated (NULL: nothing); the struct itself is freed after.
  void (*free_kind)(batch_reader *r);
};

// The arguments start functions share: (fd, buf, offset, slotSize, slots, lengths: Int32Array, callback).
typedef struct {
  int fd;
  int offset;
  int slot_size;
  int slots;
  uint8_t *data;
  size_t data_len;
  int32_t *lengths;
  size_t lengths_len;
} reader_args;

// Read argv[0..5] into `a` and check that the slots fit the buffer and the
// lengths; 0 (with a JS exception naming the start function `name`) if not.
int reader_parse(napi_env env, napi_value *argv, const char *name, reader_args *a);

// A zeroed reader of `size` bytes (the kind's struct, which embeds a
// batch_reader first) on the slots of `a`; NULL if out of memory.
batch_reader *reader_alloc(size_t size, const reader_args *a);

// Start watching, once the kind's fields are set: hold the buffer, lengths
// and callback (argv[1], argv[5], argv[6]). Returns the JS handle, or NULL
// with an exception (r, and what its free_kind frees, freed).
napi_value reader_start(napi_env env, batch_reader *r, napi_value *argv, const char *resource);

// Free a reader that was never started (free_kind, then the struct).
void reader_discard(batch_reader *r);

// stopReader(handle): stop watching; the fd stays open (the caller closes it).
napi_value StopReader(napi_env env, napi_callback_info info);
// refReader(handle, ref: boolean): whether the watcher keeps the process alive.
napi_value RefReader(napi_env env, napi_callback_info info);
// The handle's reader, or NULL (with no exception) if it is not one.
batch_reader *reader_of(napi_env env, napi_value handle);

#endif
