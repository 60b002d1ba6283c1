import { isNotFound, type GithubClient } from './client.js';

/**
 * Who may approve a fork's preview or run `/retest`/`/cancel`: a collaborator with write access
 * ("Get repository permissions for a user", docs.github.com: `permission` is admin, write, read or
 * none; the maintain role reads as write). Triage may add labels but is not write, so a label added
 * by a triager approves nothing. Pipelines-as-Code checks the same way (pkg/provider/github/acl.go).
 */
export async function githubHasWriteAccess(client: GithubClient, repoName: string, login: string): Promise<boolean> {
  if (login === '') return false;
  const { owner, repo } = client.split(repoName);
  try {
    const { data } = await client.octokit.rest.repos.getCollaboratorPermissionLevel({
      owner,
      repo,
      username: login,
      headers: await client.headers(repoName),
      request: client.request(),
    });
    return data.permission === 'admin' || data.permission === 'write';
  } catch (err) {
    const e = client.fail(err, `reading ${login}'s permission on ${repoName}`);
    // 404: not a user GitHub knows, or not a collaborator of a private repository.
    if (isNotFound(e)) return false;
    throw e;
  }
}
