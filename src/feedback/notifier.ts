import type { FeedbackQueue } from '../queue/index.js';
import { getBuild, type Store } from '../store/index.js';

/** What the pipeline calls on every state change (PipelineDeps.feedback). */
export interface FeedbackNotifier {
  notify(buildId: string): Promise<void>;
}

/**
 * Queues the reports a build's new state calls for. One indexed read finds the build's forge and pull
 * request; the jobs themselves read the state when they run.
 */
export function createFeedbackNotifier(store: Store, queue: FeedbackQueue): FeedbackNotifier {
  return {
    async notify(buildId) {
      const build = await getBuild(store.db, buildId);
      if (build !== undefined) await queue.addForBuilds([build]);
    },
  };
}
