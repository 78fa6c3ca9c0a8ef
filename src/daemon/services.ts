/**
 * What route handlers work with: the daemon's configuration and services,
 * wired once by daemon.ts. Handlers receive this object instead of importing
 * singletons, so tests and the bench can assemble a daemon in-process.
 */
import type { Logger } from '../shared/log.js';
import type { Store } from '../store/store.js';
import type { Access } from './auth.js';
import type { DaemonConfig } from './config.js';
import type { HeartbeatService } from './heartbeats.js';
import type { IpamService } from './ipam_service.js';
import type { EndpointService } from './endpoints.js';
import type { DaemonMetrics } from './metrics.js';
import type { NetpolService } from './netpols.js';
import type { PolicyService } from './policies.js';
import type { TenantService } from './tenants.js';
import type { VipService } from './vips.js';
import type { WatchStreamHandle } from './watch_stream.js';
import type { Router } from '../shared/http_server.js';

export interface DaemonServices {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly ipam: IpamService;
  readonly tenants: TenantService;
  readonly policies: PolicyService;
  readonly heartbeats: HeartbeatService;
  readonly endpoints: EndpointService;
  readonly netpols: NetpolService;
  readonly vips: VipService;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  /** Open /watch streams (ended on shutdown). */
  readonly watchStreams: Set<WatchStreamHandle>;
}

/** Routes carry the access they need as their meta. */
export type DaemonRouter = Router<Access>;
