import { singleQuery } from '../query.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SlipwayError } from '../../core/errors.js';
import { DNS_LABEL_RE } from '../../core/types.js';
import type { ServerDeps } from '../deps.js';
import type { ServedApp, ServedTarget } from '../serving-control.js';

/** A status without the sealed values of revisions' secrets: the API names them, never more. */
export function statusView(status: ServedApp): ServedApp {
  return {
    ...status,
    revisions: status.revisions.map((r) =>
      r.spec.secrets ? { ...r, spec: { ...r.spec, secrets: Object.fromEntries(Object.keys(r.spec.secrets).map((name) => [name, '••••'])) } } : r,
    ),
  };
}

/**
 * `GET /api/v1/apps/:app/revisions` and `PUT /api/v1/apps/:app/traffic`: an app's revisions
 * and traffic on a serving target, for `slipway revisions`, `slipway traffic` and `slipway rollback`.
 * `?target=` picks the target; without it, the one target the app is configured for or has revisions on.
 */

const trafficBody = z.strictObject({
  traffic: z
    .array(
      z.strictObject({
        revision: z.string().min(1).optional(),
        latestRevision: z.boolean().optional(),
        percent: z.number().int().min(0).max(100),
        tag: z.string().min(1).optional(),
      }),
    )
    .min(1),
  /** Compare-and-set: the generation the client read (GET …/revisions); a concurrent change answers 409. */
  generation: z.number().int().nonnegative().optional(),
});

export async function servingApiPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const targets = () => {
    if (!deps.targets || deps.targets.size === 0)
      throw new SlipwayError(
        'SLW_UNAVAILABLE',
        'this server runs no serving targets; configure targets (see docs/serving.md) and run slipway up or slipway server',
      );
    return deps.targets;
  };

  /** The target an app request means: `?target=`, else the only one the app is configured for or has revisions on. */
  async function targetFor(appName: string, asked: string | undefined): Promise<ServedTarget> {
    if (!DNS_LABEL_RE.test(appName))
      throw new SlipwayError('SLW_BAD_REQUEST', `"${appName}" is not an app name (a DNS label: lower-case letters, digits and dashes)`);
    const all = targets();
    if (asked !== undefined) {
      const t = all.get(asked);
      if (!t) throw new SlipwayError('SLW_TARGET_UNKNOWN', `target "${asked}" is not served here; targets: ${[...all.keys()].join(', ')}`);
      return t;
    }
    if (all.size === 1) return [...all.values()][0]!;
    const configured = deps.config.apps.find((a) => a.name === appName);
    const named = configured
      ? new Set([...Object.values(configured.branches), ...Object.values(configured.tags), ...(configured.previews ? [configured.previews.target] : [])])
      : new Set<string>();
    let candidates = [...all.values()].filter((t) => named.has(t.name));
    if (candidates.length !== 1) {
      const used = await Promise.all([...all.values()].map(async (t) => ((await t.status(appName)).revisions.length > 0 ? t : undefined)));
      candidates = used.filter((t): t is ServedTarget => t !== undefined);
    }
    if (candidates.length === 1) return candidates[0]!;
    throw new SlipwayError(
      'SLW_BAD_REQUEST',
      `app ${appName} ${candidates.length ? 'is served on several targets' : 'has no revisions on any target'}; pass ?target= (one of ${[...all.keys()].join(', ')})`,
    );
  }

  app.get<{ Params: { app: string }; Querystring: { target?: string } }>('/api/v1/apps/:app/revisions', { config: { access: 'read' } }, async (request) => {
    const target = await targetFor(request.params.app, singleQuery(request.query, 'target'));
    return statusView(await target.status(request.params.app));
  });

  app.put<{ Params: { app: string }; Querystring: { target?: string } }>('/api/v1/apps/:app/traffic', { config: { access: 'write' } }, async (request) => {
    const parsed = trafficBody.safeParse(request.body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      throw new SlipwayError('SLW_TRAFFIC_INVALID', `the body must be {"traffic":[{"revision"|"latestRevision":true,"percent","tag"?}…]}: ${problems}`);
    }
    const target = await targetFor(request.params.app, singleQuery(request.query, 'target'));
    const { traffic, generation } = parsed.data;
    return statusView(await target.setTraffic(request.params.app, traffic, generation === undefined ? {} : { expectedGeneration: generation }));
  });
}
