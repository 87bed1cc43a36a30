#!/bin/sh
# tunroute set-up, one command, as root: the Debian packages the router, its
# tests and the demo use (iproute2, ping, traceroute, curl, BIRD and FRR as
# real peers, a compiler for the TUN addon, iperf3 for the bulk TCP bench), then `npm install`, which builds
# the addon (node-gyp) and compiles the TypeScript (tsc).
set -eu
cd "$(dirname "$0")/.."

PACKAGES="iproute2 iputils-ping traceroute curl bird2 frr make g++ python3 iperf3"
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -c /dev/net/tun ] || { echo "setup: /dev/net/tun is missing (load the tun module)" >&2; exit 1; }

npm install --no-audit --no-fund
echo "setup: done — try: npm run demo"
