import { randomBytes, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isSlipwayError, SlipwayError } from '../../core/errors.js';
import { principalName, type ApiAuth } from '../auth/authenticate.js';
import type { ServerDeps } from '../deps.js';
import { runHttpBackend } from '../git/http-backend.js';
import { planPush } from '../git/post-receive.js';
import { PushRepos } from '../git/repos.js';
import { admit } from '../../admission/index.js';

const GIT_BODY_TYPES = ['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'];
const HOOK_PATH = '/git/_hooks/post-receive';
const GIT_PATH_RE = /^[A-Za-z0-9._/-]{1,256}$/;

/** The address this request reached us on, so the hook (a child on this machine) can call back. */
function selfUrl(request: FastifyRequest): string {
  const socket = request.raw.socket;
  let host = socket.localAddress ?? '127.0.0.1';
  if (host.startsWith('::ffff:')) host = host.slice(7);
  if (host.includes(':')) host = `[${host}]`;
  return `http://${host}:${socket.localPort}`;
}

/**
 * `git push http://<server>/git/<app>.git <branch>`: git's smart HTTP protocol served by
 * `git http-backend` on a bare repository per app under `<dataDir>/git/`, behind the API's tokens (git
 * sends the token as the Basic-auth password after our 401 challenge). Builds are started by the
 * repository's post-receive hook calling back into this server (`POST /git/_hooks/post-receive` with
 * a secret only this process and its children know), so the pusher sees the build ids as `remote:`
 * lines, and `git push -o wait` streams the build.
 */
export async function gitRemotePlugin(app: FastifyInstance, deps: ServerDeps, auth: ApiAuth): Promise<void> {
  const repos = new PushRepos(resolve(deps.cwd ?? process.cwd(), deps.config.dataDir, 'git'));
  const hookSecret = randomBytes(32).toString('hex');
  app.addContentTypeParser(GIT_BODY_TYPES, (_request, payload, done) => done(null, payload));

  app.all<{ Params: { repo: string; '*': string } }>('/git/:repo/*', { config: { access: 'own' } }, async (request, reply) => {
    const appName = request.params.repo.replace(/\.git$/, '');
    let principal;
    try {
      principal = await auth.check(request.headers.authorization, appName);
    } catch (err) {
      // git asks its credential helper (or the URL's user:token) only after a Basic challenge.
      if (isSlipwayError(err, 'SLW_AUTH_REQUIRED')) void reply.header('www-authenticate', 'Basic realm="slipway", charset="UTF-8"');
      throw err;
    }
    const config = deps.config.apps.find((a) => a.name === appName);
    if (!config) throw new SlipwayError('SLW_NOT_FOUND', `app "${appName}" is not configured; push to /git/<app>.git for an app under apps`);
    // git's smart HTTP paths are a few fixed names (info/refs, git-upload-pack, git-receive-pack, HEAD, objects/…):
    // nothing that climbs, hides or escapes reaches http-backend.
    if (!GIT_PATH_RE.test(request.params['*']) || request.params['*'].split('/').some((s) => s === '..' || s === '.' || s === '')) {
      throw new SlipwayError('SLW_NOT_FOUND', `no such path in ${config.name}.git; use git itself: git push http://<server>/git/${config.name}.git`);
    }
    const dir = await repos.ensure(config.name);
    const base = selfUrl(request);
    runHttpBackend(request, reply, request.body as Readable | undefined, {
      projectRoot: repos.root,
      pathInfo: `/${config.name}.git/${request.params['*']}`,
      remoteUser: principalName(principal),
      env: {
        SLIPWAY_HOOK_URL: `${base}${HOOK_PATH}`,
        SLIPWAY_API_URL: base,
        SLIPWAY_HOOK_SECRET: hookSecret,
        SLIPWAY_HOOK_SCRIPT: repos.hookScript,
        SLIPWAY_NODE: process.execPath,
        SLIPWAY_APP: config.name,
        SLIPWAY_REPO: dir,
      },
    });
    return reply;
  });

  app.post<{ Body: { app?: string; pusher?: string; updates?: string } }>(HOOK_PATH, { config: { access: 'own' } }, async (request) => {
    const presented = Buffer.from(String(request.headers['x-slipway-hook-secret'] ?? ''));
    const expected = Buffer.from(hookSecret);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected))
      throw new SlipwayError('SLW_AUTH_REQUIRED', 'a valid bearer token is required');
    const config = deps.config.apps.find((a) => a.name === request.body.app);
    if (!config) throw new SlipwayError('SLW_NOT_FOUND', `app "${request.body.app}" is not configured`);
    const dir = await repos.ensure(config.name);
    const plan = planPush(config, request.body.updates ?? '', dir, request.body.pusher ?? '');
    const made = plan.builds.length ? (await admit({ db: deps.store.db, queue: deps.queue, feedback: deps.feedback }, { builds: plan.builds })).builds : [];
    const publicUrl = deps.config.server.publicUrl.replace(/\/$/, '');
    const lines = [
      ...made.map(
        ({ build, created }) =>
          `slipway: build ${build.id} ${created ? 'queued' : `already exists (${build.state})`} for ${build.ref.replace('refs/heads/', '')} → ${build.target}: ${publicUrl}/builds/${build.id}`,
      ),
      ...plan.skipped.map((s) => `slipway: ${s}`),
    ];
    request.log.info({ app: config.name, builds: made.map((m) => m.build.id) }, 'git push received');
    return { builds: made.map((m) => m.build.id), lines };
  });
}
