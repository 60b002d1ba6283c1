import { isNotFound, type GitlabClient } from './client.js';

/**
 * Whether a merge request is still open ("Merge requests API", `GET /projects/:id/merge_requests/:iid`: `state`
 * is opened, closed, locked or merged; locked is a transient state of an open one). One GitLab no longer
 * knows (404) is not open. The preview reconciler asks this to catch close events Slipway never received.
 */
export async function gitlabMergeRequestOpen(client: GitlabClient, repo: string, iid: number): Promise<boolean> {
  try {
    const { data } = await client.request<{ state: string }>(
      'GET',
      `${client.project(repo)}/merge_requests/${iid}`,
      `reading merge request !${iid} of ${repo}`,
    );
    return data.state === 'opened' || data.state === 'locked';
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
