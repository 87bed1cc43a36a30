// Which control protocols a router runs, from its config: BFD (always
// present; idle without sessions) and RIP (when configured), and their API.
import type { ApiServer } from '../api/server.js';
import { setupBfd } from '../protocols/bfd/index.js';
import { setupRip } from '../protocols/rip/index.js';
import type { Router } from './router.js';

export function attachProtocols(router: Router, api: ApiServer): void {
  const bfd = setupBfd(router, api);
  setupRip(router, api, bfd);
}
