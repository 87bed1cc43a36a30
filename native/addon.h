// What the addon's C files share: argument and error helpers (tun.c) and
// each file's registration function, called from the module's Init (tun.c).
#ifndef TUNROUTE_ADDON_H
#define TUNROUTE_ADDON_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

napi_value throw_errno(napi_env env, int err, const char *what);
int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len);
int get_i32_array(napi_env env, napi_value v, int32_t **data, size_t *len);

// native/ether.c: Ethernet ports on AF_PACKET sockets.
napi_value ether_init(napi_env env, napi_value exports);

#endif
