import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppConfig } from '../../config/index.js';
import { ENV_MAX_ENTRIES, envEntryProblems } from '../../core/env-names.js';
import { SlipwayError } from '../../core/errors.js';
import { admit } from '../../admission/index.js';
import { changeAppEnv, listAppEnv, type AppEnvVar } from '../../store/index.js';
import { principalName } from '../auth/authenticate.js';
import type { ServerDeps } from '../deps.js';
import { imageOrigin } from '../ingest/image-origin.js';
import { singleQuery } from '../query.js';
import type { ServedApp } from '../serving-control.js';
import { buildView } from '../views.js';
import { deployTarget } from './deploy-target.js';

/**
 * `GET` and `PATCH /api/v1/apps/:app/env`: an app's environment on a target (`slipway env`), as Heroku's
 * config vars and `kn service update --env`. Both need a token allowed for the app even with
 * `api.publicReads`: configuration is not for strangers, even where secret values are never shown.
 *
 * A change is stored and, in the same transaction, admitted as a build (scope `config`, trigger `image`)
 * that promotes the image serving now again: through the image and promote gates (the signed digest is
 * verified again), to a new revision `<app>-<n+1>` that takes the traffic (src/pipeline/stages/promote.ts
 * reads the environment when it promotes). When nothing serves yet, the change waits for the next deploy.
 */

const patchBody = z.strictObject({
  target: z.string().min(1).optional(),
  set: z.record(z.string(), z.string()).optional(),
  /** The values of `set` are secrets: sealed before they are stored, never shown again. */
  secret: z.boolean().optional(),
  unset: z.array(z.string()).optional(),
});

export interface EnvEntryView {
  name: string;
  secret: boolean;
  /** Plain values only; a secret's value is never answered. */
  value: string | null;
  /** `stored` (slipway env) or `config` (apps[].env, apps[].secrets of the config file). */
  source: 'stored' | 'config';
  updatedAt: string | null;
  updatedBy: string | null;
}

/** What the app's revisions get (before `previews.env`), with where each variable comes from. */
function envView(app: AppConfig, rows: readonly AppEnvVar[]): EnvEntryView[] {
  const entries = new Map<string, EnvEntryView>();
  const fromConfig = { source: 'config' as const, updatedAt: null, updatedBy: null };
  for (const [name, value] of Object.entries(app.env)) entries.set(name, { name, secret: false, value, ...fromConfig });
  for (const name of Object.keys(app.secrets)) entries.set(name, { name, secret: true, value: null, ...fromConfig });
  for (const r of rows) {
    entries.set(r.name, { name: r.name, secret: r.secret, value: r.secret ? null : r.value, source: 'stored', updatedAt: r.updatedAt, updatedBy: r.updatedBy });
  }
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The revision serving most of the app's traffic (ties: the newest), whose image a change runs again. */
function servingMost(status: ServedApp): ServedApp['revisions'][number] | undefined {
  const share = new Map<string, number>();
  for (const t of status.traffic) {
    const name = t.revisionName ?? t.revision;
    if (name && t.percent > 0) share.set(name, (share.get(name) ?? 0) + t.percent);
  }
  const [best] = [...share].sort((a, b) => b[1] - a[1] || b[0].localeCompare(a[0], undefined, { numeric: true }));
  return best ? status.revisions.find((r) => r.name === best[0]) : undefined;
}

export async function appEnvApiPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  app.get<{ Params: { app: string }; Querystring: { target?: string } }>('/api/v1/apps/:app/env', { config: { access: 'write' } }, async (request) => {
    const { app: config, target } = deployTarget(deps.config, request.params.app, singleQuery(request.query, 'target'), undefined);
    return { app: config.name, target, env: envView(config, await listAppEnv(deps.store.db, config.name, target)) };
  });

  app.patch<{ Params: { app: string } }>('/api/v1/apps/:app/env', { config: { access: 'write' } }, async (request, reply) => {
    const parsed = patchBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      // Issue paths and messages only: never an input value, which may be a secret.
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      throw new SlipwayError('SLW_ENV_INVALID', `send {"set": {"NAME": "value"}, "secret"?: true, "unset"?: ["NAME"], "target"?: "…"}: ${problems}`);
    }
    const body = parsed.data;
    const { app: config, target } = deployTarget(deps.config, request.params.app, body.target, undefined);
    const set = Object.entries(body.set ?? {});
    const unset = [...new Set(body.unset ?? [])];
    if (set.length === 0 && unset.length === 0) throw new SlipwayError('SLW_ENV_INVALID', 'nothing to change: send "set" and/or "unset"');
    const problems = [...set.flatMap(([name, value]) => envEntryProblems(name, value)), ...unset.flatMap((name) => envEntryProblems(name, undefined))];
    for (const [name] of set) if (unset.includes(name)) problems.push(`${name} is both set and unset`);
    if (problems.length) throw new SlipwayError('SLW_ENV_INVALID', `app ${config.name}: ${problems.join('; ')}`);
    if (body.secret && !deps.secrets)
      throw new SlipwayError('SLW_SECRET_KEY', 'this server has no secrets key, so it cannot store secrets; see secrets.keyEnv in the configuration');
    const stored = new Set((await listAppEnv(deps.store.db, config.name, target)).map((r) => r.name));
    const onlyInConfig = unset.filter((name) => !stored.has(name) && (name in config.env || name in config.secrets));
    if (onlyInConfig.length)
      throw new SlipwayError(
        'SLW_ENV_INVALID',
        `${onlyInConfig.join(', ')} of app ${config.name} come from the config file (apps[].env, apps[].secrets): remove them there, or set another value here`,
      );
    const absent = unset.filter((name) => !stored.has(name) && !(name in config.env || name in config.secrets));
    if (absent.length === unset.length && set.length === 0)
      throw new SlipwayError('SLW_ENV_INVALID', `app ${config.name} has no variable ${absent.join(', ')} on target ${target}; nothing to change`);

    const sealed = set.map(([name, value]) => ({
      name,
      secret: body.secret === true,
      value: body.secret ? deps.secrets!.seal(config.name, name, value) : value,
    }));
    const serving = deps.targets?.get(target);
    const current = serving ? servingMost(await serving.status(config.name)) : undefined;
    const digest = current?.digest;
    const origin = digest ? await imageOrigin(deps.store.db, digest) : undefined;
    const by = request.principal ? principalName(request.principal) : null;

    const made = await admit(
      { db: deps.store.db, queue: deps.queue, feedback: deps.feedback },
      {
        before: async (trx) => {
          await changeAppEnv(trx, { app: config.name, target, set: sealed, unset, by });
          const count = (await listAppEnv(trx, config.name, target)).length;
          if (count > ENV_MAX_ENTRIES)
            throw new SlipwayError('SLW_ENV_INVALID', `app ${config.name} would have ${count} variables on ${target}; at most ${ENV_MAX_ENTRIES} are allowed`);
          return undefined;
        },
        builds:
          current && digest
            ? [
                {
                  app: config.name,
                  target,
                  commit: digest.slice('sha256:'.length),
                  ref: '',
                  scope: { kind: 'config' },
                  trigger: 'image',
                  cloneUrl: current.image,
                  sender: by,
                  fork: origin?.fork ?? false,
                  sourceBuild: origin?.build.id ?? null,
                  // Each change is its own build, even of the same image.
                  dedupeExtra: `config-${randomUUID()}`,
                },
              ]
            : [],
      },
    );
    const build = made.builds[0]?.build;
    request.log.info({ app: config.name, target, set: set.map(([n]) => n), unset, secret: body.secret === true, build: build?.id }, 'app environment changed');
    const env = envView(config, await listAppEnv(deps.store.db, config.name, target));
    return reply.code(build ? 202 : 200).send({
      app: config.name,
      target,
      env,
      build: build ? buildView(build, deps.config.server.publicUrl) : null,
      message: build
        ? `revision ${current!.name}'s image runs again with the new environment as a new revision (build ${build.id})`
        : `no revision of ${config.name} serves on ${target} yet: the next deploy runs with this environment`,
    });
  });
}
