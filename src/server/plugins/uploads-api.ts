import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { singleQuery } from '../query.js';
import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors.js';
import { principalName } from '../auth/authenticate.js';
import type { ServerDeps } from '../deps.js';
import { admit } from '../../admission/index.js';
import { uploadScope } from '../../core/scope.js';
import { deployTarget } from './deploy-target.js';
import { collectUploads } from '../uploads/collect.js';
import { storeUpload } from '../uploads/store-upload.js';
import { buildView } from '../views.js';

const UPLOAD_TYPES = ['application/gzip', 'application/x-gzip', 'application/x-tar+gzip'];

interface UploadQuery {
  target?: string;
  ref?: string;
  tag?: string;
}

/**
 * `POST /api/v1/apps/:app/builds`: a gzip tar build context from the GitHub Action or
 * `slipway deploy`. Stored durably under `<dataDir>/uploads/` (content-addressed), then a build with
 * trigger `upload` whose "commit" is the upload's SHA-256 — the same bytes build once per target, as
 * the same commit does. The fetch stage unpacks it instead of fetching git. The auth hook has already
 * checked the token for this app before a byte of the body was read.
 */
export async function uploadsApiPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const limit = deps.config.api.uploadLimit;
  const dir = resolve(deps.cwd ?? process.cwd(), deps.config.dataDir, 'uploads');
  app.addContentTypeParser(UPLOAD_TYPES, (_request, payload, done) => done(null, payload));
  // Stored archives are collected hourly once no active build needs them (collect.ts).
  const collect = () =>
    collectUploads(deps.store.db, dir, { retentionMs: deps.config.api.uploadRetention }).then(
      (removed) => removed.length && app.log.info({ removed: removed.length }, 'old uploads collected'),
      (err: unknown) => app.log.warn({ err }, 'collecting old uploads failed; the next run tries again'),
    );
  const timer = setInterval(() => void collect(), 3_600_000);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  app.addHook('onReady', async () => void collect());

  app.post<{ Params: { app: string }; Querystring: UploadQuery }>('/api/v1/apps/:app/builds', { config: { access: 'write' } }, async (request, reply) => {
    const ref = singleQuery(request.query, 'ref');
    const { app: config, target, tag } = deployTarget(deps.config, request.params.app, singleQuery(request.query, 'target'), singleQuery(request.query, 'tag'));
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!UPLOAD_TYPES.includes(type))
      throw new SlipwayError('SLW_UPLOAD_MEDIA_TYPE', `content type "${type || 'none'}" is not accepted: send the context as a gzip tar (application/gzip)`);
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit)
      throw new SlipwayError('SLW_UPLOAD_TOO_LARGE', `the upload (${declared} bytes) is larger than api.uploadLimit (${limit} bytes)`);

    const stored = await storeUpload(request.body as Readable, dir, {
      limit,
      unpackedLimit: deps.config.api.uploadUnpackedLimit,
      maxEntries: deps.config.api.uploadMaxEntries,
    });
    const {
      builds: [made],
    } = await admit(
      { db: deps.store.db, queue: deps.queue, feedback: deps.feedback },
      {
        builds: [
          {
            app: config.name,
            target,
            commit: stored.sha256,
            ref: ref ?? '',
            scope: uploadScope(ref, tag),
            trigger: 'upload',
            cloneUrl: stored.path,
            sender: request.principal ? principalName(request.principal) : null,
            ...(tag ? { dedupeExtra: `tag-${tag}` } : {}),
          },
        ],
      },
    );
    request.log.info({ build: made!.build.id, app: config.name, bytes: stored.size, created: made!.created }, 'context uploaded');
    return reply.code(202).send(buildView(made!.build, deps.config.server.publicUrl));
  });
}
