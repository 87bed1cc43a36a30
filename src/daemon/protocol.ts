// What a control-plane protocol (BFD, RIP, …) plugs into the router with.
import type { Port } from '../ports/port.js';
import type { Route } from '../routing/rib.js';

export interface ControlProtocol {
  readonly name: string;
  start(): void;
  stop(): void;
  /** Last words before `port` goes silent (BFD AdminDown, RIP poisoned update). */
  portBlocking?(port: Port): void;
  /** `port` carries traffic again. */
  portUnblocked?(port: Port): void;
  /** Why this protocol considers `route` unusable now (e.g. "bfd-down"), or null. */
  routeUnusable?(route: Route): string | null;
}
