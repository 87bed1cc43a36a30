#!/bin/sh
# The container image's entry point: wait for the lab's links, then become the
# tunroute CLI (`run --config …`, `--help`, …).
#
# containerlab starts a node's container first and moves the link interfaces
# (eth1, eth2, …) into it afterwards; it tells the container how many to
# expect in CLAB_INTFS (the management eth0 not counted). A router started
# before its interfaces exist would not find them, so wait — bounded, then
# start anyway (the daemon names a missing device in one line itself).
set -eu

want=${CLAB_INTFS:-0}
limit=${TUNROUTE_WAIT_INTFS_TIMEOUT:-300}   # seconds
case $want in
  '' | *[!0-9]*) echo "tunroute-entrypoint: CLAB_INTFS=\"$want\" is not a number; not waiting for interfaces" >&2; want=0 ;;
esac
case $limit in
  '' | *[!0-9]*) limit=300 ;;
esac

# Interfaces a lab moved in: everything but loopback and the management eth0.
links() { ls /sys/class/net | grep -cvxE 'lo|eth0' || true; }

if [ "$want" -gt 0 ]; then
  ticks=0
  while [ "$(links)" -lt "$want" ]; do
    if [ "$ticks" -ge $((limit * 5)) ]; then
      echo "tunroute-entrypoint: $(links) of $want interfaces after ${limit} s; starting anyway" >&2
      break
    fi
    sleep 0.2
    ticks=$((ticks + 1))
  done
  echo "tunroute-entrypoint: interfaces: $(ls /sys/class/net | tr '\n' ' ')" >&2
fi

exec node /opt/tunroute/bin/tunroute.js "$@"
