import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors.js';
import type { ForgeId } from '../../forges/registry.js';
import type { Forge } from '../../forges/types.js';
import { ingestDelivery } from '../ingest/ingest.js';
import type { ServerDeps } from '../deps.js';
import { buildView } from '../views.js';

// GitHub sends JSON or form-encoded (`payload=`); GitLab sends JSON. Anything else is refused (415).
const ACCEPTED_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

const headerOf = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * `POST /webhooks/:forge`: verify over the raw bytes, store, enqueue, answer.
 * Nothing else happens in the request; a 4xx for an event we merely ignore would make GitLab
 * disable the hook, so ignored events get 202 with a reason.
 */
export async function webhooksPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  // The signature covers the exact bytes: keep the body as a Buffer, never re-serialized JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.config.server.webhookBodyLimit }, (_req, body, done) => done(null, body));

  // Bodies of senders not yet verified (a GitHub HMAC needs the whole body) are buffered at most this many
  // at a time: beyond it a sender gets 503 and retries, so unauthenticated clients cannot fill memory.
  let unverified = 0;
  const limit = deps.config.server.webhookConcurrency;

  const route = (forgeId: ForgeId, forge: Forge) =>
    app.post(
      `/webhooks/${forgeId}`,
      {
        bodyLimit: deps.config.server.webhookBodyLimit,
        config: { access: 'public' },
        // Before the body is read: refuse what the headers alone show to be unauthenticated.
        onRequest: async (request, reply) => {
          try {
            forge.verifyHeaders(request.headers);
          } catch (err) {
            if (err instanceof SlipwayError) deps.metrics.webhooks.inc({ forge: forgeId, result: 'unauthorized' });
            throw err;
          }
          if (unverified >= limit) {
            void reply.header('retry-after', '1');
            throw new SlipwayError('SLW_UNAVAILABLE', `more than server.webhookConcurrency (${limit}) webhook bodies are being received; retry shortly`);
          }
          unverified += 1;
          let released = false;
          const release = () => {
            if (!released) unverified -= 1;
            released = true;
          };
          request.raw.once('close', release);
          reply.raw.once('close', release);
        },
      },
      async (request, reply) => {
        const count = (result: string) => deps.metrics.webhooks.inc({ forge: forgeId, result });
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const req = { headers: request.headers, rawBody };
        try {
          forge.verify(req);
          const type = (headerOf(request.headers['content-type']) ?? '').split(';')[0]!.trim().toLowerCase();
          if (!ACCEPTED_TYPES.includes(type)) {
            throw new SlipwayError(
              'SLW_WEBHOOK_MEDIA_TYPE',
              `content type "${type || 'none'}" is not accepted: configure the webhook to send application/json`,
            );
          }
          const detected = forge.detect(req);
          if (detected.kind === 'foreign') {
            throw new SlipwayError(
              'SLW_WEBHOOK_MALFORMED',
              `this is not a ${forgeId} webhook (its event header is missing); point ${forgeId} webhooks at /webhooks/${forgeId}`,
            );
          }
          const eventName = headerOf(request.headers[forge.terms.eventHeader]) ?? 'unknown';
          const result = await ingestDelivery(
            { db: deps.store.db, queue: deps.queue, apps: deps.config.apps, feedback: deps.feedback },
            {
              forge: forgeId,
              deliveryId: detected.kind === 'accepted' ? detected.event.deliveryId : detected.deliveryId,
              eventName,
              event: detected.kind === 'accepted' ? detected.event : { ignored: detected.reason },
            },
          );
          count(result.duplicate ? 'duplicate' : result.builds.length > 0 ? 'accepted' : 'ignored');
          return reply.code(202).send({
            builds: result.builds.map((b) => buildView(b, deps.config.server.publicUrl)),
            duplicate: result.duplicate,
            ...(result.reason ? { reason: result.reason } : {}),
          });
        } catch (err) {
          if (err instanceof SlipwayError) {
            const results: Record<string, string> = {
              SLW_WEBHOOK_SIGNATURE: 'unauthorized',
              SLW_WEBHOOK_NOT_CONFIGURED: 'unauthorized',
              SLW_WEBHOOK_MALFORMED: 'malformed',
              SLW_WEBHOOK_MEDIA_TYPE: 'media_type',
            };
            count(results[err.code] ?? 'error');
          } else count('error');
          throw err;
        }
      },
    );

  for (const [id, forge] of deps.forges) route(id, forge);
}
