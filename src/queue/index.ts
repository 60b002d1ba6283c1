export { createRedis, connectRedis, safeRedisUrl, type RedisEndpoint } from './connection.js';
export { BUILDS_QUEUE, DEFAULT_PREFIX, channels } from './names.js';
export { buildJobSchema, type BuildJob, type BuildEvent } from './payloads.js';
export { BuildQueue, type BuildQueueOptions } from './build-queue.js';
export { BuildEvents } from './build-events.js';
export { FEEDBACK_QUEUE, feedbackDirtyKey } from './names.js';
export { feedbackJobSchema, feedbackJobId, buildFeedbackJobs, type FeedbackJob } from './feedback-payloads.js';
export { FeedbackQueue, feedbackBackoff, FEEDBACK_BACKOFF, type FeedbackQueueOptions } from './feedback-queue.js';
