#!/bin/sh
# Build tunroute's container image (tunroute:latest), one command, as root:
#
#   ./scripts/container-image.sh
#
# 1. installs the Docker engine (Debian's docker.io) if there is none;
# 2. starts dockerd in the background if it is not running (no systemd
#    needed), and waits for it (bounded);
# 3. makes sure the base image the Dockerfile names (node:20-bookworm-slim) is
#    there: pulled if a registry answers, else a local stand-in made from
#    Debian packages (mmdebstrap) and this machine's own Node 20 — for
#    machines that reach Debian's and npm's registries but no image registry;
# 4. builds the image and prints its size.
#
# Idempotent: a second run reuses the engine, the base image and the build
# cache. Environment: TUNROUTE_IMAGE (tag, default tunroute:latest),
# DOCKERD_LOG (default /var/log/tunroute-dockerd.log).
set -eu
cd "$(dirname "$0")/.."

IMAGE=${TUNROUTE_IMAGE:-tunroute:latest}
BASE=node:20-bookworm-slim
DEBIAN_STANDIN=tunroute-standin/debian:bookworm
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/tunroute-dockerd.log}
DOCKERD_WAIT=60   # seconds

say() { echo "container-image: $*"; }
die() { echo "container-image: $*" >&2; exit 1; }
now() { date +%s; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd)"

apt_install() {
  missing=""
  for p in "$@"; do
    # (a removed package whose config files remain is "deinstall ok config-files")
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  [ -n "$missing" ] || return 0
  say "installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# ---- 1. the engine ------------------------------------------------------------
# A docker client alone (a static binary on the PATH) is not enough: dockerd.
command -v dockerd >/dev/null 2>&1 || apt_install docker.io
command -v docker >/dev/null 2>&1 || die "no docker client after installing docker.io"

# ---- 2. dockerd ----------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd in the background (log: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  waited=0
  pid=$!
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 5 "$DOCKERD_LOG" >&2 || true
      die "dockerd exited (log above, full log: $DOCKERD_LOG)"
    fi
    if [ "$waited" -ge $((DOCKERD_WAIT * 5)) ]; then
      tail -n 5 "$DOCKERD_LOG" >&2 || true
      die "dockerd did not answer within ${DOCKERD_WAIT} s (log above, full log: $DOCKERD_LOG)"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  say "dockerd is up (pid $pid)"
fi

# ---- 3. the base image ---------------------------------------------------------
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# A Debian bookworm root file system from this machine's apt sources, made
# like Debian's own slim images: minbase, merged /usr without the usrmerge
# package (and the perl it pulls in), no docs or man pages, and apt told not
# to keep downloaded packages or its binary caches in image layers.
make_debian_standin() {
  apt_install mmdebstrap
  tmp=$(mktemp -d)
  sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$sources" ] || sources=http://deb.debian.org/debian
  clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
  printf '%s\n' "DPkg::Post-Invoke { $clean };" "APT::Update::Post-Invoke { $clean };" \
    'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' >"$tmp/docker-clean"
  say "making $DEBIAN_STANDIN with mmdebstrap (mirror: $sources)"
  mmdebstrap --quiet --variant=minbase \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --customize-hook="copy-in $tmp/docker-clean /etc/apt/apt.conf.d" \
    --customize-hook='rm -f "$1"/var/cache/apt/*.bin' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    bookworm "$tmp/rootfs.tar" "$sources"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$tmp/rootfs.tar" "$DEBIAN_STANDIN" >/dev/null
  rm -rf "$tmp"
}

# node:20-bookworm-slim laid out like the official image (node, npm and the
# headers under /usr/local), from this machine's Node 20. The system CA bundle
# goes along: the registries may be reached through a TLS proxy that Node's
# own list does not know. nodedir points node-gyp at the headers (it cannot
# download them without the internet).
make_node_standin() {
  node=$(command -v node || true)
  [ -n "$node" ] || die "no node on this machine to make the $BASE stand-in from"
  major=$("$node" -p 'process.versions.node.split(".")[0]')
  [ "$major" = 20 ] || die "this machine's node is v$("$node" -p process.versions.node), the image wants Node 20"
  node=$(readlink -f "$node")
  prefix=$(dirname "$(dirname "$node")")
  npm_dir=$prefix/lib/node_modules/npm
  [ -d "$npm_dir" ] || npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found next to $node"
  [ -f "$prefix/include/node/node_api.h" ] || die "Node headers not found in $prefix/include/node"
  have_image "$DEBIAN_STANDIN" || make_debian_standin
  ctx=$(mktemp -d)
  cp "$node" "$ctx/node"
  cp -a "$npm_dir" "$ctx/npm"
  cp -a "$prefix/include/node" "$ctx/include"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat >"$ctx/Dockerfile" <<EOF
FROM $DEBIAN_STANDIN
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include /usr/local/include/node
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && mkdir -p /usr/local/etc \\
 && printf 'nodedir=/usr/local\nupdate-notifier=false\n' >/usr/local/etc/npmrc \\
 && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL org.tunroute.stand-in="node:20-bookworm-slim made locally by scripts/container-image.sh"
CMD ["node"]
EOF
  say "making the stand-in $BASE from $node (v$("$node" -p process.versions.node))"
  docker build -q -t "$BASE" "$ctx" >/dev/null
  rm -rf "$ctx"
}

if have_image "$BASE"; then
  :
elif docker pull -q "$BASE" >/dev/null 2>&1; then
  say "pulled $BASE"
else
  say "$BASE cannot be pulled here (no image registry); making a local stand-in"
  make_node_standin
fi

# ---- 4. the image -------------------------------------------------------------
say "building $IMAGE"
t0=$(now)
docker build -t "$IMAGE" .
t1=$(now)
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
say "built $IMAGE in $((t1 - t0)) s; image size $((size / 1000000)) MB ($(docker image inspect -f '{{.Size}}' "$BASE" | awk '{printf "%d", $1 / 1000000}') MB of it the $BASE base)"
