/**
 * What a git object id, ref name and repository path may look like before any of them reaches git's
 * argv, a URL or the store. Webhook payloads are input: a "commit" of `--upload-pack=…` once ran a
 * command on a worker. Everything here is checked where an event is parsed and again where git runs.
 */

/** A full object id: 40 hex digits (SHA-1 repositories) or 64 (SHA-256 repositories), lower case as git prints them. */
export const COMMIT_SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export const isCommitSha = (value: string): boolean => COMMIT_SHA_RE.test(value);

/**
 * `git check-ref-format` rules for a full ref name (`refs/heads/main`), plus one of ours: no component
 * may start with `-`, so a ref can never be read as an option even where `--end-of-options` is absent.
 */
export function refNameProblem(ref: string): string | undefined {
  if (ref.length === 0 || ref.length > 1024) return 'must be 1 to 1024 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return 'must not contain control characters, spaces or any of ~ ^ : ? * [ \\';
  if (ref.includes('..')) return 'must not contain ".."';
  if (ref.includes('@{')) return 'must not contain "@{"';
  if (ref === '@') return 'must not be "@"';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) return 'must not start or end with "/" or contain "//"';
  if (ref.endsWith('.')) return 'must not end with "."';
  for (const part of ref.split('/')) {
    if (part.startsWith('.')) return 'no component may start with "."';
    if (part.endsWith('.lock')) return 'no component may end with ".lock"';
    if (part.startsWith('-')) return 'no component may start with "-"';
  }
  return undefined;
}

export const isRefName = (ref: string): boolean => refNameProblem(ref) === undefined;

/** A branch or tag name: valid once prefixed (`refs/heads/<name>`). */
export const isShortRefName = (name: string): boolean => name.length > 0 && isRefName(`refs/heads/${name}`);

/**
 * `owner/name` (GitHub) or `group/subgroup/project` (GitLab): the characters both forges allow in
 * namespace and project paths, no empty, dot-only or option-shaped segment. It becomes a URL path.
 */
export const REPO_PATH_RE = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$/;

export const isRepoPath = (path: string): boolean => REPO_PATH_RE.test(path);

/** The clone URL of a forge repository, derived from the configured base, never taken from a payload. */
export function forgeCloneUrl(gitUrl: string, repoPath: string): string {
  return `${gitUrl.replace(/\/+$/, '')}/${repoPath}.git`;
}
