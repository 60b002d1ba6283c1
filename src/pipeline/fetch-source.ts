import { isAbsolute, relative, resolve } from 'node:path';
import { isForgeId } from '../forges/terms.js';
import type { ForgeId } from '../forges/registry.js';
import type { AppConfig, SlipwayConfig } from '../config/index.js';
import { SlipwayError } from '../core/errors.js';
import { isCommitSha } from '../core/git-names.js';
import type { Build } from '../store/index.js';

/** Where a build may be fetched from, and the one git transport that reaches it. */
export interface FetchSource {
  url: string;
  /** What `GIT_ALLOW_PROTOCOL` holds for the fetch: git refuses every other transport, `ext::` included. */
  protocol: 'https' | 'http' | 'ssh' | 'file';
  /** Set when the URL is `<forge gitUrl>/<repo>.git`: the forge whose credentials may be sent there. */
  forge?: { id: ForgeId; repo: string };
}

const schemeOf = (url: string): FetchSource['protocol'] | undefined => {
  if (isAbsolute(url) || url.startsWith('file://')) return 'file';
  const m = /^(https|http|ssh):\/\//.exec(url);
  return m ? (m[1] as FetchSource['protocol']) : undefined;
};

const inside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/**
 * Checks a build's source before git sees it. A stored build row is no more trusted than the webhook it
 * came from, so this runs where git runs, whatever admitted the build:
 * - the commit is a full object id (never an option, a ref expression or a path);
 * - the URL is one Slipway chose: the app's configured `cloneUrl`, the app's own `git push` repository
 *   under `<dataDir>/git/`, or `<forge gitUrl>/<owner>/<name>.git` (what admission derives) — so a
 *   payload cannot point a worker at another host, scheme, internal address or another app's repository.
 */
export function fetchSource(build: Build, app: AppConfig, config: SlipwayConfig, cwd: string): FetchSource {
  if (!isCommitSha(build.commit)) {
    throw new SlipwayError('SLW_FETCH_COMMIT_MISSING', `"${build.commit.slice(0, 80)}" is not a full commit id (40 or 64 hex digits); nothing was fetched`);
  }
  const url = build.cloneUrl;
  const refuse = (why: string) =>
    new SlipwayError(
      'SLW_FETCH_SOURCE_REFUSED',
      `build ${build.id} names a source Slipway does not fetch from (${why}); set apps[].cloneUrl or the forge's gitUrl to where the repository lives`,
    );
  const scheme = schemeOf(url);
  if (scheme === undefined) throw refuse('unsupported URL scheme');
  if (app.cloneUrl !== undefined && url === app.cloneUrl) {
    const id = app.repo.slice(0, app.repo.indexOf(':'));
    const repo = isForgeId(id) ? forgeRepo(url, config[id].gitUrl) : undefined;
    return { url, protocol: scheme, ...(isForgeId(id) && repo !== undefined ? { forge: { id, repo } } : {}) };
  }
  if (build.trigger === 'git' && scheme === 'file' && isAbsolute(url)) {
    const pushRepo = resolve(cwd, config.dataDir, 'git', `${app.name}.git`);
    if (resolve(url) === pushRepo && inside(resolve(cwd, config.dataDir, 'git'), pushRepo)) return { url, protocol: 'file' };
    throw refuse("not this app's push repository");
  }
  // Every forge id has its config section (`github`, `gitlab`) under the same name.
  const forge = isForgeId(build.forge) ? config[build.forge] : undefined;
  if (forge === undefined) throw refuse('no forge');
  const repo = forgeRepo(url, forge.gitUrl);
  if (repo === undefined) throw refuse(`not under ${forge.gitUrl}`);
  return { url, protocol: schemeOf(forge.gitUrl)!, forge: { id: build.forge as ForgeId, repo } };
}

/** `owner/name` when `url` is `<gitUrl>/owner/name.git` (a plain path under it, no `..`), else undefined. */
function forgeRepo(url: string, gitUrl: string): string | undefined {
  const base = `${gitUrl.replace(/\/+$/, '')}/`;
  const rest = url.slice(base.length);
  if (!url.startsWith(base) || !/^[A-Za-z0-9_][A-Za-z0-9_./-]*\.git$/.test(rest) || rest.includes('..')) return undefined;
  return rest.slice(0, -'.git'.length);
}
