# tunroute's container image: one router per container, for container network
# labs (containerlab's `linux` kind and the like). A router needs NET_ADMIN
# (Ethernet ports on the links moved in as eth1, …; AF_PACKET's NET_RAW is
# Docker's default) and /dev/net/tun for TUN ports; containerlab runs nodes
# privileged, which covers both.
#
#   build:  scripts/container-image.sh      (or: docker build -t tunroute:latest .)
#   run:    docker run -d --name r1 --network none --cap-add NET_ADMIN --device /dev/net/tun \
#             --sysctl net.ipv6.conf.default.disable_ipv6=1 --sysctl net.ipv4.conf.default.forwarding=0 \
#             -v "$PWD/r1.json:/config/r1.json:ro" tunroute:latest run --config /config/r1.json
#           docker exec r1 tunroute port list
# README.md ("Container image") has containerlab, clabernetes and the testbed's
# container mode.
#
# Three stages; only the last one ships. Layers are ordered so that editing
# src/ rebuilds only the TypeScript, and editing native/ the addon and the
# TypeScript after it.

# ---- build: compilers, dev dependencies, the addon, the TypeScript ----------
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ liburing-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Lifecycle scripts off: the package's own install (node-gyp) and prepare (tsc)
# need sources that are copied below, each into its own layer.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY binding.gyp ./
COPY native ./native
# The package's install script: node-gyp rebuild → build/Release/tun.node
RUN npm run install
COPY tsconfig.json ./
COPY src ./src
# Only src/ is in the build context (see .dockerignore): this emits dist/src.
RUN npx tsc -p .

# ---- production dependencies only --------------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: what a lab node runs, no compilers -----------------------------
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iputils-ping curl \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tunroute
COPY --from=deps /src/node_modules ./node_modules
COPY package.json ./
COPY config ./config
COPY bin/tunroute.js ./bin/tunroute.js
COPY scripts/container-entrypoint.sh ./bin/container-entrypoint.sh
COPY --from=build /src/build/Release/tun.node ./build/Release/tun.node
COPY --from=build /src/dist/src ./dist/src
# `tunroute` on the PATH (for `docker exec … tunroute port list`); check that
# the CLI and the addon load in this stage, without the build tools.
RUN ln -s /opt/tunroute/bin/tunroute.js /usr/local/bin/tunroute \
 && tunroute --version \
 && node -e "require('/opt/tunroute/build/Release/tun.node')"
ENTRYPOINT ["/opt/tunroute/bin/container-entrypoint.sh"]
# No command: the container idles (a lab host the rehearsal drives with docker exec).
CMD []
