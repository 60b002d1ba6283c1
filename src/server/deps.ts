import type { Redis } from 'ioredis';
import type { SlipwayConfig } from '../config/index.js';
import type { ForgeId } from '../core/types.js';
import type { Forge } from '../forges/types.js';
import type { Logger, Metrics } from '../log/index.js';
import type { BuildEvents, BuildQueue } from '../queue/index.js';
import type { Store } from '../store/index.js';

/** Everything the HTTP server uses, made by the caller (CLI or test) and passed in. */
export interface ServerDeps {
  config: SlipwayConfig;
  store: Store;
  queue: BuildQueue;
  events: BuildEvents;
  forges: ReadonlyMap<ForgeId, Forge>;
  logger: Logger;
  metrics: Metrics;
  /** Pinged by /readyz. */
  redis: Redis;
}
