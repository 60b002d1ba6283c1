import { parseImageRef } from '../registry/index.js';

/** An image reference as BuildKit resolves it: Docker Hub names spelled out, `latest` when no tag or digest. */
export interface NormalizedRef {
  registry: string;
  repository: string;
  /** '' when the reference has only a digest. */
  tag: string;
  digest: string;
}

/** `alpine` → docker.io/library/alpine:latest (as `reference.ParseNormalizedNamed` + `TagNameOnly`); undefined if not a reference. */
export function normalizeImageRef(text: string): NormalizedRef | undefined {
  try {
    const r = parseImageRef(text);
    let { registry, repository } = r;
    if (registry === 'index.docker.io') registry = 'docker.io';
    if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
    return { registry, repository, tag: r.tag ?? (r.digest ? '' : 'latest'), digest: r.digest ?? '' };
  } catch {
    return undefined;
  }
}

export const formatNormalized = (r: NormalizedRef): string => `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;

/**
 * Whether a reference BuildKit resolved is one the gate approved: same registry and repository, and the
 * approved digest when it named one, else the approved tag. BuildKit adds the digest it resolved a tag
 * to (`alpine:3@sha256:…`), so a resolved reference with a tag and a digest matches an approved tag.
 */
export function approves(approved: readonly NormalizedRef[], seen: NormalizedRef): boolean {
  return approved.some((a) => {
    if (a.registry !== seen.registry || a.repository !== seen.repository) return false;
    if (a.digest) return seen.digest === a.digest;
    return seen.tag === a.tag || (seen.tag === '' && seen.digest !== '');
  });
}
