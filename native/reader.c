// The batch reader TUN and AF_PACKET ports share (reader.h).

#include "reader.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "addon.h"

int reader_parse(napi_env env, napi_value *argv, const char *name, reader_args *a) {
  char msg[160];
  if (napi_get_value_int32(env, argv[0], &a->fd) != napi_ok || !get_bytes(env, argv[1], &a->data, &a->data_len) ||
      napi_get_value_int32(env, argv[2], &a->offset) != napi_ok || napi_get_value_int32(env, argv[3], &a->slot_size) != napi_ok ||
      napi_get_value_int32(env, argv[4], &a->slots) != napi_ok || !get_i32_array(env, argv[5], &a->lengths, &a->lengths_len)) {
    snprintf(msg, sizeof msg, "%s(fd, ArrayBuffer, offset, slotSize, slots, Int32Array, callback)", name);
    napi_throw_type_error(env, "EINVAL", msg);
    return 0;
  }
  if (a->offset < 0 || a->slot_size <= 0 || a->slots <= 0 || (size_t)a->slots > a->lengths_len ||
      (size_t)a->offset + (size_t)a->slot_size * (size_t)a->slots > a->data_len) {
    snprintf(msg, sizeof msg, "%s: slots do not fit the buffer", name);
    napi_throw_range_error(env, "ERANGE", msg);
    return 0;
  }
  return 1;
}

void reader_discard(batch_reader *r) {
  if (r->free_kind) r->free_kind(r);
  free(r);
}

static void call_js(batch_reader *r, int n, int err) {
  napi_env env = r->env;
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

static void on_idle(uv_idle_t *h);

static void run_reader(batch_reader *r) {
  if (r->closing) return;
  int err = 0;
  int n = r->fill(r, &err);
  // Packets left waiting: keep delivering on the next loop turns even if the fd stays quiet.
  int more = r->more && r->more(r);
  if (more && !r->idle_on) { uv_idle_start(&r->idle, on_idle); r->idle_on = 1; }
  if (!more && r->idle_on) { uv_idle_stop(&r->idle); r->idle_on = 0; }
  if (n == 0 && err == 0) return;
  call_js(r, n, err);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  batch_reader *r = p->data;
  if (r->closing) return;
  if (status < 0) {
    if (!r->socket_errors) { call_js(r, 0, -status); return; }
    // A socket error (POLLERR) makes libuv stop the watcher: take the error
    // off the socket, watch again, and tell JS. ENETDOWN is a link that went
    // down (a port block: the socket re-arms when it comes up) or an
    // interface that is gone (deleted): JS asks which.
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    int rc = uv_poll_start(&r->poll, UV_READABLE, on_readable);
    if (rc != 0) { call_js(r, 0, -rc); return; }
    if (soerr) call_js(r, 0, soerr);
  }
  run_reader(r);
}

static void on_idle(uv_idle_t *h) { run_reader(h->data); }

// Let go of the JS objects and free the reader (its handles closed, or never opened).
static void release(batch_reader *r) {
  if (r->callback) napi_delete_reference(r->env, r->callback);
  if (r->buffer_ref) napi_delete_reference(r->env, r->buffer_ref);
  if (r->lengths_ref) napi_delete_reference(r->env, r->lengths_ref);
  if (r->actx) napi_async_destroy(r->env, r->actx);
  reader_discard(r);
}

static void on_handle_closed(uv_handle_t *h) {
  batch_reader *r = h->data;
  if (--r->handles_open == 0) release(r);
}

static void close_handles(batch_reader *r) {
  r->closing = 1;
  uv_poll_stop(&r->poll);
  uv_idle_stop(&r->idle);
  uv_close((uv_handle_t *)&r->poll, on_handle_closed);
  uv_close((uv_handle_t *)&r->idle, on_handle_closed);
}

static void reader_finalize(napi_env env, void *data, void *hint) { (void)env; (void)data; (void)hint; }

batch_reader *reader_alloc(size_t size, const reader_args *a) {
  batch_reader *r = calloc(1, size);
  if (!r) return NULL;
  r->fd = a->fd;
  r->base = a->data + a->offset;
  r->lengths = a->lengths;
  r->slot_size = (size_t)a->slot_size;
  r->slots = a->slots;
  return r;
}

napi_value reader_start(napi_env env, batch_reader *r, napi_value *argv, const char *resource) {
  r->env = env;
  napi_value name;
  if (napi_create_reference(env, argv[6], 1, &r->callback) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &r->buffer_ref) != napi_ok ||
      napi_create_reference(env, argv[5], 1, &r->lengths_ref) != napi_ok ||
      napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &r->actx) != napi_ok) {
    release(r);
    napi_throw_error(env, "EADDON", "reader: N-API call failed");
    return NULL;
  }
  uv_loop_t *loop;
  int rc = napi_get_uv_event_loop(env, &loop) == napi_ok ? 0 : UV_EINVAL;
  if (rc == 0) rc = uv_poll_init(loop, &r->poll, r->fd);
  if (rc == 0) {
    uv_idle_init(loop, &r->idle);
    r->handles_open = 2;
    r->poll.data = r;
    r->idle.data = r;
    rc = uv_poll_start(&r->poll, UV_READABLE, on_readable);
  }
  if (rc != 0) {
    if (r->handles_open) close_handles(r);  // released once both are closed
    else release(r);
    return throw_errno(env, -rc, "uv_poll");
  }
  napi_value ext;
  if (napi_create_external(env, r, reader_finalize, NULL, &ext) != napi_ok) {
    close_handles(r);
    napi_throw_error(env, "EADDON", "reader: N-API call failed");
    return NULL;
  }
  return ext;
}

batch_reader *reader_of(napi_env env, napi_value handle) {
  batch_reader *r = NULL;
  if (napi_get_value_external(env, handle, (void **)&r) != napi_ok) return NULL;
  return r;
}

napi_value StopReader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_reader *r = reader_of(env, argv[0]);
  if (r && !r->closing) close_handles(r);
  return NULL;
}

napi_value RefReader(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool ref;
  CHECK(napi_get_value_bool(env, argv[1], &ref));
  batch_reader *r = reader_of(env, argv[0]);
  if (r && !r->closing) {
    if (ref) { uv_ref((uv_handle_t *)&r->poll); uv_ref((uv_handle_t *)&r->idle); }
    else { uv_unref((uv_handle_t *)&r->poll); uv_unref((uv_handle_t *)&r->idle); }
  }
  return NULL;
}
