import { apiClient, type CliContext, type GlobalOptions } from '../context.js';
import { age, formatTable } from '../table.js';
import { describeTraffic, fetchStatus } from './serving-api.js';

export interface RevisionsOptions {
  target?: string;
  json?: boolean;
}

/** `slipway revisions <app> [--target T] [--json]`: revisions newest first with their traffic and tags, as `kn revision list`. */
export async function revisionsCommand(ctx: CliContext, global: GlobalOptions, app: string, opts: RevisionsOptions): Promise<number> {
  const status = await fetchStatus(apiClient(ctx, global), app, opts.target);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  if (status.revisions.length === 0) {
    ctx.stdout.write(`app ${app} has no revisions on target ${status.target}\n`);
    return 0;
  }
  const rows = status.revisions.map((r) => [
    r.name,
    r.percent ? `${r.percent}%` : '',
    r.tags.join(','),
    r.state,
    r.build?.commit.slice(0, 12) ?? '',
    r.build?.id ?? '',
    age(r.createdAt),
    r.state === 'failed' ? (r.message ?? '').split('\n')[0]! : '',
  ]);
  ctx.stdout.write(`${formatTable(['NAME', 'TRAFFIC', 'TAGS', 'STATE', 'COMMIT', 'BUILD', 'AGE', 'REASON'], rows)}\n\n${describeTraffic(status)}\n`);
  return 0;
}
