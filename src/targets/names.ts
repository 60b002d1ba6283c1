import { SlipwayError } from '../core/errors.js';
import { DNS_LABEL_RE, isDigest, type Digest } from '../core/types.js';

/** docs/architecture.md (Knative conventions): revision `<app>-<n>`, `<app>.<domain>`, `<tag>-<app>.<domain>`. */

export const revisionName = (app: string, n: number): string => `${app}-${n}`;
export const appHost = (app: string, domain: string): string => `${app}.${domain}`;
export const tagHost = (tag: string, app: string, domain: string): string => `${tag}-${app}.${domain}`;
export const appUrl = (app: string, domain: string): string => `http://${appHost(app, domain)}`;
export const tagUrl = (tag: string, app: string, domain: string): string => `http://${tagHost(tag, app, domain)}`;

/** A tag becomes part of a host name, so it must be a DNS label (Knative validates tags the same way). */
export const TAG_RE = DNS_LABEL_RE;

/**
 * The registry host of an image reference, as Docker reads it: the first component when it looks like a
 * host (has a dot or a port, or is localhost), else Docker Hub.
 */
export function imageHost(image: string): string {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/**
 * The digest of `registry/repo@sha256:…`. Only digests are promoted (docs/architecture.md); a tag would let the
 * registry change what a revision runs, which breaks revision immutability.
 */
export function imageDigest(image: string): Digest {
  const at = image.lastIndexOf('@');
  const digest = at > 0 ? image.slice(at + 1) : '';
  if (!isDigest(digest)) {
    throw new SlipwayError(
      'SLW_REGISTRY_REFERENCE',
      `"${image}" is not an image by digest: write it as registry/repo@sha256:<64 hex> (slipway build prints it)`,
    );
  }
  return digest;
}
