import type { Redis } from 'ioredis';
import type { SlipwayConfig } from '../config/index.js';
import type { ForgeId } from '../forges/registry.js';
import type { Forge } from '../forges/types.js';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import type { BuildEvents, BuildQueue, FeedbackQueue } from '../queue/index.js';
import type { Store } from '../store/index.js';
import type { ServingControl } from './serving-control.js';
import type { ApiAuth } from './auth/authenticate.js';
import type { SecretSealer } from '../secrets/index.js';

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
  /** Forge feedback: reports on new builds, comment commands; absent in tests that need none. */
  feedback?: FeedbackQueue | undefined;
  /** Serving targets by name (revisions and traffic API); absent where the process serves none. */
  targets?: ServingControl;
  /** Relative config paths (dataDir: uploads, git push repositories) resolve against this. Default: process.cwd(). */
  cwd?: string;
  /** Seals secrets set through the API (`slipway env --secret`); without it they are refused. */
  secrets?: SecretSealer | undefined;
  /** Write-API authentication; made from the config when absent. */
  auth?: ApiAuth;
}
