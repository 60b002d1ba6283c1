import type { CommentUpsert } from '../types.js';
import { isNotFound, type GitlabClient } from './client.js';

/**
 * Slipway's one note per merge request ("Notes API: merge requests", docs.gitlab.com), updated in
 * place: by the stored id, else found again by its hidden marker (an HTML comment GitLab's Markdown
 * hides), else created. Listing pages through `X-Next-Page`, 100 notes a page.
 */

interface Note {
  id: number;
  body: string;
  system?: boolean;
}

export async function upsertGitlabNote(client: GitlabClient, c: CommentUpsert, handle: string | undefined): Promise<string> {
  const notes = `${client.project(c.repo)}/merge_requests/${c.number}/notes`;
  const where = `merge request ${c.repo}!${c.number}`;
  const update = async (id: string) => {
    await client.request('PUT', `${notes}/${id}`, `updating Slipway's note on ${where}`, { body: c.body });
    return id;
  };
  if (handle !== undefined) {
    try {
      return await update(handle);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  for (let page: string | null = '1'; page !== null && page !== ''; ) {
    const res: { data: Note[]; headers: Headers } = await client.request<Note[]>(
      'GET',
      `${notes}?per_page=100&page=${page}&sort=asc&order_by=created_at`,
      `listing the notes of ${where}`,
    );
    const found = res.data.find((n) => !n.system && n.body.includes(c.marker));
    if (found !== undefined) return update(String(found.id));
    page = res.headers.get('x-next-page');
  }
  const { data } = await client.request<Note>('POST', notes, `writing Slipway's note on ${where}`, { body: c.body });
  return String(data.id);
}
