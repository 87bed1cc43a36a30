// PLACEHOLDER — being written (BFD). Replaced by the real implementation.
import type { ApiServer } from '../../api/server.js';
import type { Router } from '../../daemon/router.js';
import type { NeighbourLiveness } from '../liveness.js';

export function setupBfd(_router: Router, _api: ApiServer): NeighbourLiveness {
  return { require() {}, release() {}, state: () => undefined, onChange() {} };
}
