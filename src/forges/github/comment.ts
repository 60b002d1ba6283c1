import type { CommentUpsert } from '../types.js';
import { isNotFound, type GithubClient } from './client.js';

/**
 * Slipway's one comment per pull request ("REST API endpoints for issue comments", docs.github.com:
 * PR conversation comments are issue comments). Updated in place: by the stored id, else found again by
 * its hidden marker among the PR's comments (the id was lost, or the comment was made by an earlier
 * installation), else created. A comment deleted on GitHub (404) is looked for, then made anew.
 */
export async function upsertGithubComment(client: GithubClient, c: CommentUpsert, handle: string | undefined): Promise<string> {
  const { owner, repo } = client.split(c.repo);
  const headers = await client.headers(c.repo);
  const update = async (id: number) => {
    await client.octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body: c.body, headers, request: client.request() });
    return String(id);
  };
  const where = `pull request ${c.repo}#${c.number}`;

  if (handle !== undefined) {
    try {
      return await update(Number(handle));
    } catch (err) {
      const e = client.fail(err, `updating Slipway's comment on ${where}`);
      if (!isNotFound(e)) throw e;
    }
  }
  let found: number | undefined;
  try {
    const comments = await client.octokit.paginate(client.octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: c.number,
      per_page: 100,
      headers,
      request: client.request(),
    });
    found = comments.find((comment) => comment.body?.includes(c.marker))?.id;
  } catch (err) {
    throw client.fail(err, `listing the comments of ${where}`);
  }
  try {
    if (found !== undefined) return await update(found);
    const { data } = await client.octokit.rest.issues.createComment({ owner, repo, issue_number: c.number, body: c.body, headers, request: client.request() });
    return String(data.id);
  } catch (err) {
    throw client.fail(err, `writing Slipway's comment on ${where}`);
  }
}
