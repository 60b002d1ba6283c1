/** The queue every build job goes through (DESIGN.md). */
export const BUILDS_QUEUE = 'builds';

/** BullMQ key prefix. Tests use their own so that suites never see each other's jobs. */
export const DEFAULT_PREFIX = 'slipway';

/** Redis pub/sub channels, under the same prefix as the queue so a test's traffic stays its own. */
export const channels = (prefix: string) => ({
  /** A build id per message: abort it wherever it runs. */
  cancel: `${prefix}:cancel`,
  /** JSON BuildEvent per message: log lines and state changes, for live followers. */
  events: `${prefix}:build-events`,
});
