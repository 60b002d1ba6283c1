/**
 * A build's scope: what cancel in progress groups builds by (a newer build of the same app, target and
 * scope cancels the older ones). Stored as a string (`builds.scope`); `formatScope` and `parseScope` are
 * the one place that knows its spelling, so the rest of the code works with the typed value.
 */
export type BuildScope =
  /** A push (forge, `git push` to Slipway, or an upload naming `refs/heads/<branch>`). Stored `branch:<name>`. */
  | { kind: 'branch'; branch: string }
  /** A forge tag push. Stored `tag:<name>`. */
  | { kind: 'tag'; tag: string }
  /** A pull/merge request's preview. Stored `pr:<number>` on every forge. */
  | { kind: 'change-request'; number: number }
  /** `slipway deploy --tag`: an upload or an image promoted under a tag. Stored `deploy-tag:<tag>`. */
  | { kind: 'deploy-tag'; tag: string }
  /** An upload without a branch: grouped by the ref it named, if any. Stored `upload` or `upload:<ref>`. */
  | { kind: 'upload'; ref?: string | undefined }
  /** An image promoted without a tag. Stored `image`. */
  | { kind: 'image' }
  /** A configuration change (`slipway env`): the image serving now again, as a new revision. Stored `config`. */
  | { kind: 'config' };

export function formatScope(scope: BuildScope): string {
  switch (scope.kind) {
    case 'branch':
      return `branch:${scope.branch}`;
    case 'tag':
      return `tag:${scope.tag}`;
    case 'change-request':
      return `pr:${scope.number}`;
    case 'deploy-tag':
      return `deploy-tag:${scope.tag}`;
    case 'upload':
      return scope.ref ? `upload:${scope.ref}` : 'upload';
    case 'image':
      return 'image';
    case 'config':
      return 'config';
  }
}

/** The typed scope of a stored string; undefined for a string no version of Slipway wrote. */
export function parseScope(stored: string): BuildScope | undefined {
  if (stored === 'image') return { kind: 'image' };
  if (stored === 'config') return { kind: 'config' };
  if (stored === 'upload') return { kind: 'upload' };
  const colon = stored.indexOf(':');
  if (colon < 0) return undefined;
  const [kind, value] = [stored.slice(0, colon), stored.slice(colon + 1)];
  switch (kind) {
    case 'branch':
      return { kind: 'branch', branch: value };
    case 'tag':
      return { kind: 'tag', tag: value };
    case 'deploy-tag':
      return { kind: 'deploy-tag', tag: value };
    case 'upload':
      return { kind: 'upload', ref: value };
    case 'pr': {
      const number = Number(value);
      return /^[0-9]+$/.test(value) && Number.isSafeInteger(number) ? { kind: 'change-request', number } : undefined;
    }
    default:
      return undefined;
  }
}

/** What cancel in progress groups an upload with: its branch (as a push to it), else all tag-less uploads. */
export function uploadScope(ref: string | undefined, tag: string | undefined): BuildScope {
  if (tag) return { kind: 'deploy-tag', tag };
  if (ref?.startsWith('refs/heads/')) return { kind: 'branch', branch: ref.slice('refs/heads/'.length) };
  return { kind: 'upload', ref };
}
