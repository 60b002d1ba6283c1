import { clip } from '../api-errors.js';
import type { DeploymentReport } from '../types.js';
import type { GithubClient } from './client.js';

/**
 * GitHub Deployments ("REST API endpoints for deployments" and "… deployment statuses",
 * docs.github.com): one deployment per promotion of a build, its status moved in_progress → success
 * (with `environment_url`) or failure; `inactive` once a preview is torn down. The deployment's `ref`
 * is the commit itself, so GitHub never resolves a branch that moved meanwhile.
 */

/** Deployment status descriptions are capped at 140 characters. */
const DESCRIPTION_MAX = 140;

export async function publishGithubDeployment(client: GithubClient, report: DeploymentReport, handle: string | undefined): Promise<string> {
  const { owner, repo } = client.split(report.repo);
  const headers = await client.headers(report.repo);
  let id = handle === undefined ? undefined : Number(handle);
  if (id === undefined) {
    try {
      const { data, status } = await client.octokit.rest.repos.createDeployment({
        owner,
        repo,
        ref: report.sha,
        environment: report.environment,
        description: clip(report.description, DESCRIPTION_MAX),
        // Slipway has built and checked the commit itself: no merge of the default branch, and no
        // waiting for other status contexts (its own would make the deployment wait for itself).
        auto_merge: false,
        required_contexts: [],
        transient_environment: report.transient,
        production_environment: false,
        headers,
        request: client.request(),
      });
      // 202 means GitHub merged the default branch instead of deploying (only with auto_merge).
      if (status !== 201 || !('id' in data)) throw Object.assign(new Error(`unexpected answer ${status}`), { response: { status, headers: {}, data } });
      id = data.id;
    } catch (err) {
      throw client.fail(err, `creating deployment ${report.environment} on ${report.repo}`);
    }
  }
  await setDeploymentStatus(
    client,
    report.repo,
    id,
    {
      state: report.state,
      log_url: report.logUrl,
      description: clip(report.description, DESCRIPTION_MAX),
      ...(report.environmentUrl ? { environment_url: report.environmentUrl } : {}),
      // A successful preview makes the earlier deployments of its environment inactive.
      ...(report.state === 'success' ? { auto_inactive: true } : {}),
    },
    headers,
  );
  return String(id);
}

export async function retireGithubEnvironment(client: GithubClient, repoName: string, environment: string, handles: readonly string[]): Promise<void> {
  const headers = await client.headers(repoName);
  for (const handle of handles) {
    await setDeploymentStatus(client, repoName, Number(handle), { state: 'inactive', description: `${environment} torn down` }, headers);
  }
}

async function setDeploymentStatus(
  client: GithubClient,
  repoName: string,
  id: number,
  status: {
    state: 'in_progress' | 'success' | 'failure' | 'inactive';
    log_url?: string;
    description: string;
    environment_url?: string;
    auto_inactive?: boolean;
  },
  headers: { authorization: string },
): Promise<void> {
  const { owner, repo } = client.split(repoName);
  try {
    await client.octokit.rest.repos.createDeploymentStatus({ owner, repo, deployment_id: id, ...status, headers, request: client.request() });
  } catch (err) {
    throw client.fail(err, `setting deployment ${id} of ${repoName} to ${status.state}`);
  }
}
