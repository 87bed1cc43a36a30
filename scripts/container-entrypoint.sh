#!/bin/sh
# The tunroute image's entry point. In a containerlab lab the container's
# command starts before containerlab wires the node's links and runs its
# exec lines, so first wait (bounded) for what the command needs:
#   - the links: CLAB_INTFS (set by containerlab) interfaces besides lo and eth0;
#   - the address a host command binds or polls from (serve --address,
#     probe --source), which the node's exec lines add.
# With no command the container idles: a host where the rehearsal runs
# `tunroute fleet` / `tunroute probe` later (docker exec).
set -eu

TUNROUTE="node /opt/tunroute/bin/tunroute.js"
LIMIT=${TUNROUTE_WAIT_LIMIT:-600}   # tenths of a second

wait_until() {
  n=0
  until "$@" >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge "$LIMIT" ]; then
      echo "tunroute: gave up waiting for: $*" >&2
      exit 1
    fi
    sleep 0.1
  done
}

links_present() {
  [ "$(ls /sys/class/net | grep -v -x -e lo -e eth0 | wc -l)" -ge "${CLAB_INTFS:-0}" ]
}

address_local() {
  ip -4 -o addr show | grep -q " $1/"
}

if [ "$#" -eq 0 ]; then
  trap 'exit 0' TERM INT
  while :; do sleep 3600 & wait $!; done
fi

wait_until links_present
prev=
for arg in "$@"; do
  case "$prev" in
    --address|--source) [ "$arg" = 0.0.0.0 ] || wait_until address_local "$arg" ;;
  esac
  prev=$arg
done
exec $TUNROUTE "$@"
