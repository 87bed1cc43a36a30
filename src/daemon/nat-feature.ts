// The virtual-service NAT as the daemon runs it (the NAT itself is an element
// of the packet path): its services logged at start, its counters once a
// minute when they moved — never per flow: at ~1,000 new flows/s that would
// be the whole log. With forwarding workers the counters are every worker's
// summed (asked of them: the line follows their answers).
import type { NatSource } from '../api/nat-api.js';
import type { RouterPlugin } from '../control/protocol.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import type { Logger } from 'pino';

const COUNTER_LOG_MS = 60_000;

/** `nat`: the services configured now (a reload may change them, or take them away) and the NAT's figures. */
export function natLogger(nat: NatSource, log: Logger): RouterPlugin {
  let timer: NodeJS.Timeout | undefined;
  let logged = '';
  const logCounters = async () => {
    const snap = await nat.snapshot(0);
    if (!snap) return;
    const c = snap.counts;
    const key = JSON.stringify({ ...c, live: 0 });
    if (key === logged) return;
    logged = key;
    log.info({ event: 'nat.counters', ...c }, `NAT: ${c.live} live flows, ${c.created} created`);
  };
  const logNow = () => {
    logCounters().catch((e: Error) => log.warn({ event: 'nat.counters.failed', error: e.message }, `NAT counters not logged: ${e.message}`));
  };
  return {
    name: 'nat',
    start() {
      for (const s of nat.services()) {
        log.info({
          event: 'nat.service',
          service: s.name,
          address: formatAddress(s.address),
          backends: s.backends.map((b) => ({ name: b.name, address: formatAddress(b.address), sources: b.sources.map((p) => formatPrefix(p.addr, p.len)) })),
          idleTimeoutS: s.idleTimeout,
        }, `virtual service ${s.name} on ${formatAddress(s.address)}`);
      }
      timer = setInterval(logNow, COUNTER_LOG_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      // Asked before the workers are told to stop: they answer first.
      logNow();
    },
  };
}
