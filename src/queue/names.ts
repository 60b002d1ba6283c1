/** The queue every build job goes through (docs/architecture.md). */
export const BUILDS_QUEUE = 'builds';

/** Forge feedback: statuses, comments, deployments and comment commands, apart from builds. */
export const FEEDBACK_QUEUE = 'feedback';

/** BullMQ key prefix. Tests use their own so that suites never see each other's jobs. */
export const DEFAULT_PREFIX = 'slipway';

/** Redis pub/sub channels, under the same prefix as the queue so a test's traffic stays its own. */
export const channels = (prefix: string) => ({
  /** A build id per message: abort it wherever it runs. */
  cancel: `${prefix}:cancel`,
  /** JSON BuildEvent per message: log lines and state changes, for live followers. */
  events: `${prefix}:build-events`,
});

/** Redis key set while a feedback job has news it has not read yet (see FeedbackQueue). */
export const feedbackDirtyKey = (prefix: string, jobId: string): string => `${prefix}:feedback-dirty:${jobId}`;
