import { SlipwayError } from '../../core/errors.js';
import { clip } from '../api-errors.js';
import type { FeedbackState, StatusReport } from '../types.js';
import type { GithubClient } from './client.js';

/**
 * A build's status on its commit. Check runs ("REST API endpoints for check runs", docs.github.com)
 * carry a Markdown summary and annotations, but only GitHub Apps may write them: a token gets 403. Then,
 * or with `github.checks: false`, a commit status ("REST API endpoints for commit statuses") instead.
 *
 * Handles: `check:<id>` (annotations not sent yet), `check:<id>:annotated`, or `status`.
 */

/** GitHub caps: output.summary 65535 characters, 50 annotations per request, status description 140. */
const SUMMARY_MAX = 65_535;
const ANNOTATIONS_MAX = 50;
const STATUS_DESCRIPTION_MAX = 140;

type CheckStatus = 'queued' | 'in_progress' | 'completed';
type CheckConclusion = 'success' | 'failure' | 'cancelled';

const CHECK: Record<FeedbackState, { status: CheckStatus; conclusion?: CheckConclusion }> = {
  queued: { status: 'queued' },
  running: { status: 'in_progress' },
  success: { status: 'completed', conclusion: 'success' },
  failure: { status: 'completed', conclusion: 'failure' },
  rejected: { status: 'completed', conclusion: 'failure' },
  canceled: { status: 'completed', conclusion: 'cancelled' },
};

/** Commit status states are error, failure, pending, success: a canceled build is an `error`. */
const COMMIT_STATE: Record<FeedbackState, 'pending' | 'success' | 'failure' | 'error'> = {
  queued: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  rejected: 'failure',
  canceled: 'error',
};

export interface GithubStatusOptions {
  /** `github.checks`: false reports commit statuses only. */
  checks: boolean;
  /** Repositories whose token was refused check runs (per forge instance, never module state). */
  noChecks: Set<string>;
}

export async function publishGithubStatus(
  client: GithubClient,
  options: GithubStatusOptions,
  report: StatusReport,
  handle: string | undefined,
): Promise<string> {
  const useStatus = handle === 'status' || !options.checks || options.noChecks.has(report.repo.toLowerCase());
  if (useStatus) {
    await setCommitStatus(client, report);
    return 'status';
  }
  try {
    return await publishCheckRun(client, report, handle);
  } catch (err) {
    // 403 without a rate limit: this token may not write checks (only Apps may). Remember the repo.
    if (err instanceof SlipwayError && err.code === 'SLW_FORGE_FORBIDDEN' && err.details?.['status'] === 403) {
      options.noChecks.add(report.repo.toLowerCase());
      await setCommitStatus(client, report);
      return 'status';
    }
    throw err;
  }
}

async function publishCheckRun(client: GithubClient, report: StatusReport, handle: string | undefined): Promise<string> {
  const { owner, repo } = client.split(report.repo);
  const mapped = CHECK[report.state];
  const parts = handle?.split(':') ?? [];
  const id = parts[0] === 'check' ? Number(parts[1]) : undefined;
  const annotated = parts[2] === 'annotated';
  const completed = mapped.status === 'completed';
  // GitHub appends annotations on every update ("Update a check run": output.annotations), so they go
  // out once, with the completing update; the handle remembers that they did.
  const annotations = completed && !annotated ? report.annotations.slice(0, ANNOTATIONS_MAX) : [];
  const body = {
    owner,
    repo,
    name: report.name,
    details_url: report.detailsUrl,
    external_id: report.externalId,
    status: mapped.status,
    ...(report.startedAt && mapped.status !== 'queued' ? { started_at: report.startedAt } : {}),
    ...(mapped.conclusion ? { conclusion: mapped.conclusion, completed_at: report.completedAt ?? new Date().toISOString() } : {}),
    output: {
      title: report.title,
      summary: clip(report.summary, SUMMARY_MAX),
      ...(annotations.length > 0
        ? {
            annotations: annotations.map((a) => ({
              path: a.path,
              start_line: 1,
              end_line: 1,
              annotation_level: a.level,
              title: a.title,
              message: a.message,
            })),
          }
        : {}),
    },
    headers: await client.headers(report.repo),
    request: client.request(),
  };
  const done = (checkId: number) => `check:${checkId}${annotated || annotations.length > 0 ? ':annotated' : ''}`;
  if (id !== undefined && Number.isInteger(id)) {
    try {
      await client.octokit.rest.checks.update({ ...body, check_run_id: id });
      return done(id);
    } catch (err) {
      throw client.fail(err, `updating check run ${report.name} on ${report.repo}`);
    }
  }
  try {
    const { data } = await client.octokit.rest.checks.create({ ...body, head_sha: report.sha });
    return done(data.id);
  } catch (err) {
    throw client.fail(err, `creating check run ${report.name} on ${report.repo}`);
  }
}

/** `POST /repos/{owner}/{repo}/statuses/{sha}`: one status per context, the latest wins on GitHub. */
export async function setCommitStatus(
  client: GithubClient,
  report: Pick<StatusReport, 'repo' | 'sha' | 'state' | 'detailsUrl' | 'description' | 'name'>,
): Promise<void> {
  const { owner, repo } = client.split(report.repo);
  try {
    await client.octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: report.sha,
      state: COMMIT_STATE[report.state],
      target_url: report.detailsUrl,
      description: clip(report.description, STATUS_DESCRIPTION_MAX),
      context: report.name,
      headers: await client.headers(report.repo),
      request: client.request(),
    });
  } catch (err) {
    throw client.fail(err, `setting commit status ${report.name} on ${report.repo}@${report.sha.slice(0, 12)}`);
  }
}
