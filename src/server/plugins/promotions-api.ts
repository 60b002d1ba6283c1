import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors.js';
import { isDigest } from '../../core/types.js';
import { principalName } from '../auth/authenticate.js';
import type { ServerDeps } from '../deps.js';
import { admit } from '../../admission/index.js';
import { imageOrigin } from '../ingest/image-origin.js';
import { buildView } from '../views.js';
import { deployTarget } from './deploy-target.js';

interface PromotionBody {
  image?: unknown;
  target?: unknown;
  tag?: unknown;
}

/** `host[:port]/path/…` as a registry repository is written (lower-case path components). */
const REPOSITORY = /^[a-zA-Z0-9.-]+(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;

/**
 * `POST /api/v1/apps/:app/promotions` with `{"image": "registry/repo@sha256:…", "target"?, "tag"?}`
 * (`slipway deploy <image@digest>`): a build with trigger `image` that takes an existing image by
 * digest through the image and promote gates to a revision (src/pipeline/stages/given-image.ts). Only a
 * digest is accepted: a tag could point elsewhere by the time the gates look. The same digest on the same
 * target and scope is one build (202 with it again).
 */
export async function promotionsApiPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  app.post<{ Params: { app: string }; Body: PromotionBody }>('/api/v1/apps/:app/promotions', { config: { access: 'write' } }, async (request, reply) => {
    const body = (request.body ?? {}) as PromotionBody;
    if (body.target !== undefined && typeof body.target !== 'string') throw new SlipwayError('SLW_BAD_REQUEST', '"target" must be a string');
    if (body.tag !== undefined && typeof body.tag !== 'string') throw new SlipwayError('SLW_BAD_REQUEST', '"tag" must be a string');
    const { app: config, target, tag } = deployTarget(deps.config, request.params.app, body.target, body.tag);
    if (typeof body.image !== 'string')
      throw new SlipwayError('SLW_BAD_REQUEST', 'send {"image": "registry/repo@sha256:<64 hex>"}: the image to promote, by digest');
    const at = body.image.lastIndexOf('@');
    const [repository, digest] = at > 0 ? [body.image.slice(0, at), body.image.slice(at + 1)] : [body.image, ''];
    if (!isDigest(digest))
      throw new SlipwayError(
        'SLW_BAD_REQUEST',
        `"${body.image}" names no digest: promote by digest (registry/repo@sha256:<64 hex>; slipway build prints it), never by tag`,
      );
    if (!REPOSITORY.test(repository))
      throw new SlipwayError(
        'SLW_BAD_REQUEST',
        `"${repository}" is not a registry repository with its host (e.g. 127.0.0.1:5000/slipway/hello); a tag before the digest is not accepted either`,
      );
    // Workers fetch the manifest, config and layers from this host: only Slipway's own registry, so a
    // token holder cannot make them request internal addresses (SSRF) or pull an unvetted registry's image.
    const registryHost = new URL(deps.config.registry.url).host;
    if (repository.split('/')[0] !== registryHost) {
      throw new SlipwayError(
        'SLW_BAD_REQUEST',
        `"${repository}" is not in Slipway's registry ${registryHost} (registry.url): copy the image there first, then promote it by digest`,
      );
    }
    const image = `${repository}@${digest}`;
    // Refuses an unapproved fork's image (403); the origin goes on the build, and a fork's `fork` flag
    // with it, so the gates' policies see `event.fork` for what a fork built.
    const origin = await imageOrigin(deps.store.db, digest);

    const {
      builds: [made],
    } = await admit(
      { db: deps.store.db, queue: deps.queue, feedback: deps.feedback },
      {
        builds: [
          {
            app: config.name,
            target,
            commit: digest.slice('sha256:'.length),
            ref: '',
            scope: tag ? { kind: 'deploy-tag', tag } : { kind: 'image' },
            trigger: 'image',
            cloneUrl: image,
            sender: request.principal ? principalName(request.principal) : null,
            fork: origin?.fork ?? false,
            sourceBuild: origin?.build.id ?? null,
            ...(tag ? { dedupeExtra: `tag-${tag}` } : {}),
          },
        ],
      },
    );
    request.log.info({ build: made!.build.id, app: config.name, image, created: made!.created, sourceBuild: origin?.build.id }, 'image promotion requested');
    return reply.code(202).send(buildView(made!.build, deps.config.server.publicUrl));
  });
}
