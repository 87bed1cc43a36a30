#!/bin/sh
# tunroute set-up, as root, doing only what is still missing: the Debian
# packages the router, its tests and the demo use (iproute2, ping,
# traceroute, curl, ethtool for the topology labs' links, BIRD and FRR as
# real peers, a compiler and liburing (io_uring) for the TUN addon, iperf3 for the bulk TCP bench); `npm install` (which builds the addon with node-gyp and compiles
# the TypeScript) when node_modules is missing or older than the lock file;
# the addon alone if it is missing; the TypeScript alone if a source file
# is newer than the last build. A second run finds everything done and
# returns at once. ./scripts/demo and ./scripts/test call it first.
# Node.js 20 or newer with npm must be there already: without them it stops
# with one line saying so.
#   --quiet        say nothing when there is nothing to do
#   --containers   also what the container image and container mode need: the
#                  Docker engine (Debian's docker.io, unless a dockerd is
#                  installed already) and mmdebstrap (the local stand-in base
#                  image where no image registry answers); ./scripts/test
#                  asks for it (the suite builds the image), and ./scripts/demo
#                  when given --containers. scripts/container-image.sh starts
#                  dockerd and builds.
set -eu
cd "$(dirname "$0")/.."
quiet=false
containers=false
for arg in "$@"; do
  case $arg in
    --quiet) quiet=true ;;
    --containers) containers=true ;;
    *) echo "setup: unknown option $arg (--quiet, --containers)" >&2; exit 2 ;;
  esac
done
say() { echo "setup: $*"; }

# Node.js 20 or newer with npm: not installed here (Debian's nodejs may be
# older); without it everything after would die with "npm: not found".
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ! command -v npm >/dev/null 2>&1 || [ "$node_major" -lt 20 ]; then
  found="node $(node --version 2>/dev/null || echo 'missing'), npm $(npm --version 2>/dev/null || echo 'missing')"
  echo "setup: tunroute needs Node.js 20 or newer with npm (found $found): install them (https://nodejs.org/en/download) and run again" >&2
  exit 1
fi

PACKAGES="iproute2 iputils-ping traceroute curl ethtool bird2 frr make g++ liburing-dev python3 iperf3"
if $containers; then
  PACKAGES="$PACKAGES mmdebstrap"
  # Docker CE's packages conflict with docker.io: an engine already there is kept.
  command -v dockerd >/dev/null 2>&1 || PACKAGES="$PACKAGES docker.io"
fi
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -c /dev/net/tun ] || { echo "setup: /dev/net/tun is missing (load the tun module)" >&2; exit 1; }

stamp=dist/.built
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "npm install (packages, the TUN addon, the TypeScript)"
  npm install --no-audit --no-fund
  touch "$stamp"
fi
if [ ! -f build/Release/tun.node ] || [ -n "$(find native binding.gyp -newer build/Release/tun.node 2>/dev/null | head -1)" ]; then
  say "building the addon"
  npm run --silent install >/dev/null  # the package's install script: node-gyp as npm bundles it
fi
if [ ! -f "$stamp" ] || [ -n "$(find src scripts test tsconfig.json -newer "$stamp" -name '*.ts' -o -newer "$stamp" -name tsconfig.json 2>/dev/null | head -1)" ]; then
  say "compiling the TypeScript"
  rm -rf dist
  npx --no-install tsc -p .
  touch "$stamp"
fi
$quiet || say "done — try: ./scripts/demo"
