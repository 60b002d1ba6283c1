import { SlipwayError } from '../../core/errors.js';
import { changeRequestLabel } from '../../forges/terms.js';
import { listAppEnv } from '../../store/index.js';
import type { StageContext } from '../context.js';

export interface RevisionEnv {
  /** Plain variables. */
  env: Record<string, string>;
  /** Secret variables, sealed (src/secrets): only the target opens them. */
  secrets: Record<string, string>;
}

/**
 * The environment a build's revision runs with, read when it is promoted (so a configuration change made
 * while a build ran is in the revision it makes): `apps[].env` and `apps[].secrets` of the config, then
 * what `slipway env` stored for the build's target over them, then, for a preview, `previews.env`. A
 * fork's preview runs code its author controls, so it gets no secrets at all (names are logged, values
 * never: stored secrets are sealed already and stay sealed here).
 */
export async function revisionEnv(ctx: StageContext, preview: boolean): Promise<RevisionEnv> {
  const app = ctx.app.name;
  const env: Record<string, string> = { ...ctx.app.env };
  const secrets: Record<string, string> = {};
  const stored = await listAppEnv(ctx.store.db, app, ctx.build.target);
  const storedNames = new Set(stored.map((r) => r.name));

  const missing: string[] = [];
  for (const [name, variable] of Object.entries(ctx.app.secrets)) {
    if (storedNames.has(name)) continue;
    delete env[name];
    const value = ctx.env?.[variable];
    if (value === undefined || value === '') missing.push(`${name} (${variable})`);
    else secrets[name] = sealer(ctx).seal(app, name, value);
  }
  for (const row of stored) {
    if (row.secret) {
      delete env[row.name];
      secrets[row.name] = row.value;
    } else {
      env[row.name] = row.value;
      delete secrets[row.name];
    }
  }
  if (preview) {
    for (const [name, value] of Object.entries(ctx.app.previews?.env ?? {})) {
      env[name] = value;
      delete secrets[name];
    }
  }
  const fork = ctx.build.fork;
  if (fork) {
    const withheld = [...Object.keys(secrets), ...missing.map((m) => m.split(' ')[0]!)];
    if (withheld.length)
      await ctx.log(
        `secrets withheld (${withheld.sort().join(', ')}): ${changeRequestLabel(ctx.build.forge, ctx.build.prNumber ?? '?')} comes from a fork`,
        'warn',
      );
    return { env, secrets: {} };
  }
  if (missing.length) {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `app secrets ${missing.join(', ')}: the environment variable is not set on this worker; set it where slipway worker runs (apps[].secrets), or set the secret with slipway env ${app} set --secret`,
    );
  }
  return { env, secrets };
}

function sealer(ctx: StageContext) {
  if (!ctx.secrets) throw new SlipwayError('SLW_SECRET_KEY', `app ${ctx.app.name} has secrets (apps[].secrets) but this worker has no secrets key`);
  return ctx.secrets;
}
