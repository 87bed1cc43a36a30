# tunroute as a node in container network labs (containerlab, Kubernetes
# network emulation): one router or host per container.
#   docker build -t tunroute:latest .
#   docker run --cap-add NET_ADMIN --device /dev/net/tun \
#     -v "$PWD/config:/config" tunroute run --config /config/router.json
# The entry point waits for containerlab's links and the node's addresses
# before it starts the command, and idles without one (a host the rehearsal
# drives): see scripts/container-entrypoint.sh and docs/topologies.md.
# (Not built in this project's CI: no Docker engine runs there.)
FROM node:20-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iputils-ping traceroute curl python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tunroute
COPY package.json package-lock.json binding.gyp tsconfig.json ./
COPY native ./native
COPY src ./src
COPY bin ./bin
COPY scripts ./scripts
COPY test ./test
COPY config ./config
COPY schemas ./schemas
RUN npm ci --no-audit --no-fund
ENTRYPOINT ["/opt/tunroute/scripts/container-entrypoint.sh"]
CMD []
