export type { FeedbackDeps } from './deps.js';
export { createFeedbackNotifier, type FeedbackNotifier } from './notifier.js';
export { reportStatus, reportDeployment, reportComment, retireChangeRequest, isPermanent, type ChangeRequestJob } from './report.js';
export { runCommand, commandEventSchema, type CommandEvent, type CommandOutcome } from './commands.js';
export { statusReport, commentMarkdown, summaryMarkdown, feedbackState, COMMENT_MARKER, checkName } from './render.js';
export { loadSnapshot, snapshotOf, revisionUrl, environmentOf, buildPageUrl, type BuildSnapshot } from './snapshot.js';
export { removePreview, type UnpreviewJob } from './previews.js';
