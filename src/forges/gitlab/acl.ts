import { isNotFound, type GitlabClient } from './client.js';

/**
 * Who may approve a fork's preview or run `/retest`/`/cancel`: a project member, direct or inherited
 * from groups, with at least the Developer role ("Group and project members API": `GET
 * /projects/:id/members/all/:user_id`; access levels 30 Developer, 40 Maintainer, 50 Owner). Pipelines-as-Code
 * asks the same of GitLab (pkg/provider/gitlab/acl.go).
 */
const DEVELOPER = 30;

export async function gitlabHasWriteAccess(client: GitlabClient, repo: string, userId: number): Promise<boolean> {
  if (!Number.isInteger(userId) || userId <= 0) return false;
  try {
    const { data } = await client.request<{ access_level: number; state?: string }>(
      'GET',
      `${client.project(repo)}/members/all/${userId}`,
      `reading the membership of user ${userId} in ${repo}`,
    );
    return data.access_level >= DEVELOPER && (data.state === undefined || data.state === 'active');
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
