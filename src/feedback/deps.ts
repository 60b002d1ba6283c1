import type { SlipwayConfig } from '../config/index.js';
import type { ForgeId } from '../forges/registry.js';
import type { Forge } from '../forges/types.js';
import type { Logger } from '../log/index.js';
import type { BuildQueue, FeedbackQueue } from '../queue/index.js';
import type { Store } from '../store/index.js';

/** What feedback jobs use, made by the runtime and passed in. */
export interface FeedbackDeps {
  config: SlipwayConfig;
  store: Store;
  forges: ReadonlyMap<ForgeId, Forge>;
  /** Comment commands create and cancel builds. */
  builds: BuildQueue;
  /** Commands report on the builds they touch. */
  feedback: FeedbackQueue;
  logger: Logger;
  /**
   * Serving targets by name, where the worker runs them: closed pull requests' previews come off them.
   * Declared here as the one call it needs, because feedback may not import src/targets.
   */
  serving?: ReadonlyMap<string, { removeTag(app: string, tag: string): Promise<unknown> }> | undefined;
}
