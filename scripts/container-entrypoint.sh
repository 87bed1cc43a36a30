#!/bin/sh
# The tunroute image's entry point. In a containerlab lab the container's
# command starts before containerlab moves the node's links in (eth1, eth2, …;
# it says how many in CLAB_INTFS, the management eth0 not counted) and runs
# its exec lines, so first wait — bounded, then start anyway (the daemon names
# a missing device in one line itself) — for what the command needs:
#   - the links, each up: a link arrives under a temporary name and is
#     renamed before it is set up, so one that is up has its final name;
#   - the address a host command binds or polls from (serve --address,
#     probe --source), which the node's exec lines add.
# With no command the container idles: a host where the rehearsal runs
# `tunroute fleet` / `tunroute probe` later (docker exec).
set -eu

TUNROUTE="node /opt/tunroute/bin/tunroute.js"
LIMIT=${TUNROUTE_WAIT_LIMIT:-3000}   # tenths of a second

wait_until() {
  n=0
  until "$@" >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge "$LIMIT" ]; then
      echo "tunroute-entrypoint: still waiting for: $* — starting anyway" >&2
      return 0
    fi
    sleep 0.1
  done
}

want=${CLAB_INTFS:-0}
case $want in
  '' | *[!0-9]*) echo "tunroute-entrypoint: CLAB_INTFS=\"$want\" is not a number; not waiting for interfaces" >&2; want=0 ;;
esac

links_up() {
  up=0
  for dev in /sys/class/net/*; do
    case ${dev##*/} in lo | eth0) continue ;; esac
    # IFF_UP is bit 0 of the interface flags.
    [ $(($(cat "$dev/flags" 2>/dev/null || echo 0) & 1)) -eq 1 ] && up=$((up + 1))
  done
  [ "$up" -ge "$want" ]
}

address_local() {
  ip -4 -o addr show | grep -q " $1/"
}

if [ "$#" -eq 0 ]; then
  trap 'exit 0' TERM INT
  while :; do sleep 3600 & wait $!; done
fi

wait_until links_up
[ "$want" -gt 0 ] && echo "tunroute-entrypoint: interfaces: $(ls /sys/class/net | tr '\n' ' ')" >&2
prev=
for arg in "$@"; do
  case "$prev" in
    --address|--source) [ "$arg" = 0.0.0.0 ] || wait_until address_local "$arg" ;;
  esac
  prev=$arg
done
exec $TUNROUTE "$@"
