// Which control protocols and features a router runs, from its config: BFD
// (always present; idle without sessions), RIP (when configured), history
// triggers — each with its API.
import type { ApiServer } from '../api/server.js';
import { setupBfd } from '../protocols/bfd/index.js';
import { setupTriggers } from '../migration/index.js';
import { setupRip } from '../protocols/rip/index.js';
import { setupVirtualServices } from './virtual-services.js';
import type { Router } from './router.js';

export function attachProtocols(router: Router, api: ApiServer): void {
  const bfd = setupBfd(router, api);
  setupRip(router, api, bfd);
  setupTriggers(router, api);
  setupVirtualServices(router, api);
}
