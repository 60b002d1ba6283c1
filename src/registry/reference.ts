import { SlipwayError } from '../core/errors.js';
import { isDigest, type Digest } from '../core/types.js';

/**
 * An image reference, parsed the way Docker's `distribution/reference` does: `[host[:port]/]path[:tag][@digest]`.
 * The first component is a registry host only if it has a dot or a colon or is `localhost`; Docker Hub
 * names are normalized to `docker.io` and `library/` for single-component paths.
 */
export interface ImageRef {
  /** `127.0.0.1:5000`, `ghcr.io`, `docker.io`. */
  registry: string;
  /** `slipway/hello`. */
  repository: string;
  tag: string | undefined;
  digest: Digest | undefined;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function parseImageRef(text: string): ImageRef {
  const bad = (why: string) =>
    new SlipwayError(
      'SLW_REGISTRY_REFERENCE',
      `"${text}" is not an image reference: ${why} (write it like 127.0.0.1:5000/slipway/hello@sha256:… or ghcr.io/org/app:tag)`,
    );
  let rest = text.trim();
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad(`"${d}" is not a sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag "${tag}" has characters a tag cannot have`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || parts.some((p) => !PATH_COMPONENT.test(p))) throw bad('the repository path must be lower-case letters, digits and separators');
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { registry, repository: parts.join('/'), tag, digest };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The manifest reference to request: the digest when there is one (content-addressed), else the tag. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
