/**
 * An app's `repo` (`github:owner/name`, `gitlab:group/project`): which forge repository feeds it. Forges
 * treat repository paths case-insensitively, so matching does too.
 */

/** `github:owner/name` → the forge id and the repository path. */
export function parseRepoSpec(spec: string): { forge: string; path: string } {
  const colon = spec.indexOf(':');
  return { forge: spec.slice(0, colon), path: spec.slice(colon + 1) };
}

/** Whether an app's `repo` names this forge's repository. */
export function isAppRepo(app: { repo: string }, forge: string, path: string): boolean {
  return app.repo.toLowerCase() === `${forge}:${path}`.toLowerCase();
}

/** The apps whose `repo` names this repository; none for a build that came from no forge. */
export function appsOfRepo<A extends { repo: string }>(apps: readonly A[], forge: string | null, path: string | null): A[] {
  if (forge === null || path === null) return [];
  return apps.filter((a) => isAppRepo(a, forge, path));
}
