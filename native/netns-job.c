// Jobs that run on a short-lived thread inside a port's network namespace
// (opening a TUN or a packet socket, setting a link), so setns() never
// touches the JS thread (addon.h).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addon.h"

int job_fail(netns_job *job, const char *step) {
  job->err = errno;
  job->step = step;
  return 0;
}

int job_enter_netns(netns_job *job) {
  if (!job->netns[0]) return 1;
  int nsfd = open(job->netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return job_fail(job, "open netns");
  if (setns(nsfd, CLONE_NEWNET) < 0) {
    job_fail(job, "setns");
    close(nsfd);
    return 0;
  }
  close(nsfd);
  return 1;
}

int job_args(napi_env env, napi_value name_v, napi_value netns_v, netns_job *job) {
  size_t n = 0;
  char name[64];
  if (napi_get_value_string_utf8(env, name_v, name, sizeof name, &n) != napi_ok ||
      napi_get_value_string_utf8(env, netns_v, job->netns, sizeof job->netns, NULL) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "expected (name: string, netnsPath: string, ...)");
    return 0;
  }
  if (n == 0 || n >= IFNAMSIZ) {
    throw_errno(env, ENAMETOOLONG, "interface name must be 1-15 bytes");
    return 0;
  }
  memcpy(job->name, name, n);
  job->name[n] = 0;
  return 1;
}

int job_run(napi_env env, void *(*fn)(void *), void *job) {
  pthread_t th;
  int rc = pthread_create(&th, NULL, fn, job);
  if (rc != 0) {
    throw_errno(env, rc, "pthread_create");
    return 0;
  }
  pthread_join(th, NULL);
  return 1;
}

napi_value job_error(napi_env env, const netns_job *job) {
  char what[160];
  snprintf(what, sizeof what, "%s (%s)", job->step ? job->step : "open", job->name);
  return throw_errno(env, job->err ? job->err : EINVAL, what);
}
