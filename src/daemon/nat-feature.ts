// The virtual-service NAT as the daemon runs it (the NAT itself is an element
// of the packet path): its services logged at start, its counters once a
// minute when they moved — never per flow: at ~1,000 new flows/s that would
// be the whole log.
import { natCounters } from '../api/nat-api.js';
import type { RouterPlugin } from '../control/protocol.js';
import type { VirtualServiceNat } from '../dataplane/nat.js';
import type { FlowTable } from '../dataplane/flow-table.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import type { Logger } from 'pino';

const COUNTER_LOG_MS = 60_000;

/** `current()`: the NAT now (a reload may replace it, or take it away). */
export function natLogger(current: () => VirtualServiceNat | null, flows: FlowTable, log: Logger): RouterPlugin {
  let timer: NodeJS.Timeout | undefined;
  let logged = '';
  const logCounters = () => {
    const nat = current();
    if (!nat) return;
    flows.tick();
    const c = natCounters(nat);
    const key = JSON.stringify({ ...c, live: 0 });
    if (key === logged) return;
    logged = key;
    log.info({ event: 'nat.counters', ...c }, `NAT: ${c.live} live flows, ${c.created} created`);
  };
  return {
    name: 'nat',
    start() {
      const nat = current();
      for (const s of nat?.services ?? []) {
        log.info({
          event: 'nat.service',
          service: s.name,
          address: formatAddress(s.address),
          backends: s.backends.map((b) => ({ name: b.name, address: formatAddress(b.address), sources: b.sources.map((p) => formatPrefix(p.addr, p.len)) })),
          idleTimeoutS: s.idleTimeout,
          capacity: nat!.flows.capacity,
        }, `virtual service ${s.name} on ${formatAddress(s.address)}`);
      }
      timer = setInterval(logCounters, COUNTER_LOG_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      logCounters();
    },
  };
}
