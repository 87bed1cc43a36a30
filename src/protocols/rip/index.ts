// PLACEHOLDER — being written (RIP). Replaced by the real implementation.
import type { ApiServer } from '../../api/server.js';
import type { Router } from '../../daemon/router.js';
import type { NeighbourLiveness } from '../liveness.js';

export function setupRip(_router: Router, _api: ApiServer, _bfd: NeighbourLiveness): null {
  return null;
}
