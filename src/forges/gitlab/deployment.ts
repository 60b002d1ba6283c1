import type { DeploymentReport } from '../types.js';
import { isAlreadyInState, isNotFound, type GitlabClient } from './client.js';

/**
 * GitLab environments and deployments ("Deployments API", "Environments API", docs.gitlab.com) for
 * deploys made outside GitLab CI: `POST /projects/:id/deployments` (environment, sha, ref, tag, status)
 * creates the environment when it does not exist; `PUT …/deployments/:id` moves the status
 * (running → success | failed); the environment's `external_url` is where the preview serves, and
 * `POST …/environments/:id/stop` ends it when the merge request closes.
 *
 * Handle: `<deployment id>:<environment id>`.
 */

interface Deployment {
  id: number;
  status: string;
  environment: { id: number; name: string; external_url?: string | null };
}

interface Environment {
  id: number;
  name: string;
  state: string;
}

const STATUS = { in_progress: 'running', success: 'success', failure: 'failed' } as const;

export async function publishGitlabDeployment(client: GitlabClient, report: DeploymentReport, handle: string | undefined): Promise<string> {
  const project = client.project(report.repo);
  const where = `deployment to ${report.environment} on ${report.repo}`;
  let [deploymentId, environmentId] = (handle ?? '').split(':');
  if (handle === undefined || deploymentId === undefined || environmentId === undefined) {
    const { data } = await client.request<Deployment>('POST', `${project}/deployments`, `creating ${where}`, {
      environment: report.environment,
      sha: report.sha,
      ref: report.ref,
      tag: false,
      status: STATUS[report.state],
    });
    deploymentId = String(data.id);
    environmentId = String(data.environment.id);
  } else {
    try {
      await client.request('PUT', `${project}/deployments/${deploymentId}`, `updating ${where}`, { status: STATUS[report.state] });
    } catch (err) {
      if (!isAlreadyInState(err)) throw err;
    }
  }
  if (report.environmentUrl !== undefined) {
    await client.request('PUT', `${project}/environments/${environmentId}`, `setting the URL of environment ${report.environment} on ${report.repo}`, {
      external_url: report.environmentUrl,
    });
  }
  return `${deploymentId}:${environmentId}`;
}

/** Stops the environment (found by name); an environment GitLab never had, or already stopped, is fine. */
export async function stopGitlabEnvironment(client: GitlabClient, repo: string, environment: string): Promise<void> {
  const project = client.project(repo);
  const { data } = await client.request<Environment[]>(
    'GET',
    `${project}/environments?name=${encodeURIComponent(environment)}`,
    `finding environment ${environment} on ${repo}`,
  );
  for (const env of data.filter((e) => e.name === environment && e.state !== 'stopped')) {
    try {
      await client.request('POST', `${project}/environments/${env.id}/stop`, `stopping environment ${environment} on ${repo}`, {});
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
