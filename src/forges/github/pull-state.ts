import { isNotFound, type GithubClient } from './client.js';

/**
 * Whether a pull request is still open ("Get a pull request", docs.github.com: `state` is open or closed;
 * merged pull requests are closed). One GitHub no longer knows (deleted repository, 404) is not open. The
 * preview reconciler asks this to catch close events Slipway never received.
 */
export async function githubPullRequestOpen(client: GithubClient, repoName: string, number: number): Promise<boolean> {
  const { owner, repo } = client.split(repoName);
  try {
    const { data } = await client.octokit.rest.pulls.get({
      owner,
      repo,
      pull_number: number,
      headers: await client.headers(repoName),
      request: client.request(),
    });
    return data.state === 'open';
  } catch (err) {
    const e = client.fail(err, `reading pull request #${number} of ${repoName}`);
    if (isNotFound(e)) return false;
    throw e;
  }
}
