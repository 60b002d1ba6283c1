import { BUILD_STATES } from '../../core/types.js';
import { ApiError } from '../../client/api-client.js';
import { apiClient, type CliContext, type GlobalOptions } from '../context.js';
import { age, formatTable } from '../table.js';

export interface BuildsOptions {
  app?: string;
  state?: string;
  limit?: string;
  json?: boolean;
}

/** `slipway builds [--app NAME] [--state S] [--json]`: newest first. */
export async function buildsCommand(ctx: CliContext, global: GlobalOptions, opts: BuildsOptions): Promise<number> {
  if (opts.state && !(BUILD_STATES as readonly string[]).includes(opts.state)) {
    throw new ApiError(`--state ${opts.state} is not a build state; use one of ${BUILD_STATES.join(', ')}`, undefined, 'usage');
  }
  const builds = await apiClient(ctx, global).listBuilds({ app: opts.app, state: opts.state, limit: opts.limit ? Number(opts.limit) : undefined });
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(builds, null, 2)}\n`);
    return 0;
  }
  if (builds.length === 0) {
    ctx.stdout.write(opts.app ? `no builds for app ${opts.app}\n` : 'no builds yet: push to a configured branch, or see docs/api.md for webhooks\n');
    return 0;
  }
  const rows = builds.map((b) => [
    b.id,
    b.app,
    b.target,
    b.state,
    b.commit.slice(0, 12),
    b.prNumber ? `#${b.prNumber}` : b.ref.replace(/^refs\/(heads|tags)\//, ''),
    age(b.createdAt),
    b.error ? (b.error.message ?? b.error.code) : '',
  ]);
  ctx.stdout.write(`${formatTable(['ID', 'APP', 'TARGET', 'STATE', 'COMMIT', 'REF', 'AGE', 'ERROR'], rows)}\n`);
  return 0;
}
