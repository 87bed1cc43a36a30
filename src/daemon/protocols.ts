// Which control protocols a router runs, from its config. (BFD and RIP plug
// in here.)
import type { ApiServer } from '../api/server.js';
import type { Router } from './router.js';

export function attachProtocols(_router: Router, _api: ApiServer): void {
  // none yet
}
