// What the addon's C files share: argument and error helpers (tun.c), the
// N-API call check, and each file's registration function, called from the
// module's Init (tun.c). The batch reader they share is in reader.h.
#ifndef TUNROUTE_ADDON_H
#define TUNROUTE_ADDON_H

#include <linux/if.h>
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

// An N-API call that fails throws and returns NULL from the calling function.
#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "EADDON", "addon: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

napi_value throw_errno(napi_env env, int err, const char *what);
int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len);
int get_i32_array(napi_env env, napi_value v, int32_t **data, size_t *len);

// The arguments both write functions start with: (fd, buf, offsets: Int32Array, lengths: Int32Array, count).
typedef struct {
  int fd;
  int count;
  uint8_t *data;
  size_t data_len;
  int32_t *offs;
  int32_t *lens;
} write_args;

// Read argv[0..4] into `w` and check count against both arrays; 0 (with a
// JS exception naming the write function `name`) if not.
int write_parse(napi_env env, napi_value *argv, const char *name, write_args *w);

// A job for a short-lived thread inside a network namespace (netns-job.c);
// each port kind's job struct embeds one first.
typedef struct {
  char name[IFNAMSIZ];  // the interface
  char netns[512];      // path of a netns file, or "" for the current namespace
  int err;              // errno on failure
  const char *step;     // which step failed
} netns_job;

// errno and the step into the job; returns 0.
int job_fail(netns_job *job, const char *step);
// On the job's thread (only that one: it exits right after): enter its netns; 0 on failure.
int job_enter_netns(netns_job *job);
// (name, netnsPath) arguments into a zeroed job; 0 (with a JS exception) if bad.
int job_args(napi_env env, napi_value name_v, napi_value netns_v, netns_job *job);
// Run fn(job) on a short-lived thread and wait for it; 0 (with a JS exception) if it could not start.
int job_run(napi_env env, void *(*fn)(void *), void *job);
// Throw "<step> (<name>): <error>" for a failed job.
napi_value job_error(napi_env env, const netns_job *job);

// native/ether.c: Ethernet ports on AF_PACKET sockets.
napi_value ether_init(napi_env env, napi_value exports);

#endif
