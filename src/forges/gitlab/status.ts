import { clip } from '../api-errors.js';
import type { FeedbackState, StatusReport } from '../types.js';
import { isAlreadyInState, type GitlabClient } from './client.js';

/**
 * `POST /projects/:id/statuses/:sha` ("Commits API: set the pipeline status of a commit",
 * docs.gitlab.com): states pending, running, success, failed, canceled; `name` is the context
 * (`slipway/<target>`), `target_url` the build page. GitLab keeps one status per (sha, name, ref) and
 * refuses a transition to the state it already has (400), which here means the work is done.
 */

const STATE: Record<FeedbackState, 'pending' | 'running' | 'success' | 'failed' | 'canceled'> = {
  queued: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  rejected: 'failed',
  canceled: 'canceled',
};

/** GitLab's description column holds 255 characters. */
const DESCRIPTION_MAX = 255;

export async function publishGitlabStatus(client: GitlabClient, report: StatusReport): Promise<string> {
  try {
    await client.request(
      'POST',
      `${client.project(report.repo)}/statuses/${report.sha}`,
      `setting commit status ${report.name} on ${report.repo}@${report.sha.slice(0, 12)}`,
      {
        state: STATE[report.state],
        ref: report.ref,
        name: report.name,
        target_url: report.detailsUrl,
        description: clip(report.description, DESCRIPTION_MAX),
      },
    );
  } catch (err) {
    if (!isAlreadyInState(err)) throw err;
  }
  return 'status';
}
