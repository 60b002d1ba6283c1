import { latestReady, type AppStatus, type ResolvedTraffic, type TrafficTarget } from '../../targets/index.js';
import { ApiError } from '../../client/api-client.js';
import { apiClient, type CliContext, type GlobalOptions } from '../context.js';
import { describeTraffic, fetchStatus, putTraffic } from './serving-api.js';

export interface TrafficOptions {
  target?: string;
  traffic: string[];
  tag: string[];
  untag: string[];
}

const usage = (message: string) => new ApiError(message, undefined, 'usage');

/** `REV=PCT` / `REV=TAG` → [left, right]. */
function pair(flag: string, value: string): [string, string] {
  const at = value.lastIndexOf('=');
  if (at <= 0 || at === value.length - 1)
    throw usage(
      `--${flag} ${value}: write it as ${flag === 'traffic' ? 'REVISION=PERCENT (or @latest=PERCENT, TAG=PERCENT)' : 'REVISION=TAG (or @latest=TAG)'}`,
    );
  return [value.slice(0, at), value.slice(at + 1)];
}

const plain = (t: ResolvedTraffic | TrafficTarget): TrafficTarget => ({
  ...(t.latestRevision ? { latestRevision: true } : { revision: t.revision }),
  percent: t.percent,
  ...(t.tag ? { tag: t.tag } : {}),
});

/**
 * The new traffic block, as `kn service update --traffic … --tag … --untag …` computes it: with
 * `--traffic`, those entries replace the split (a name may be a revision, `@latest`, or an existing
 * tag) and existing tags stay at 0%; without it the split stays. Then `--untag` drops tags and `--tag`
 * sets them (on the revision's entry when it has one without a tag, else as a new 0% entry).
 */
export function nextTraffic(current: readonly ResolvedTraffic[], opts: Pick<TrafficOptions, 'traffic' | 'tag' | 'untag'>): TrafficTarget[] {
  const ref = (name: string): TrafficTarget => {
    if (name === '@latest') return { latestRevision: true, percent: 0 };
    const tagged = current.find((t) => t.tag === name);
    if (tagged) return tagged.latestRevision ? { latestRevision: true, percent: 0 } : { revision: tagged.revision!, percent: 0 };
    return { revision: name, percent: 0 };
  };
  let block: TrafficTarget[];
  if (opts.traffic.length) {
    const split = opts.traffic.map((v) => {
      const [name, pct] = pair('traffic', v);
      const percent = Number(pct.replace(/%$/, ''));
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw usage(`--traffic ${v}: the percent must be a whole number from 0 to 100`);
      return { ...ref(name), percent };
    });
    block = [...split, ...current.filter((t) => t.tag).map((t) => ({ ...plain(t), percent: 0 }))];
  } else {
    block = current.map(plain);
  }
  const drop = (tag: string) => {
    block = block.flatMap((t) => (t.tag !== tag ? [t] : t.percent === 0 ? [] : [{ ...t, tag: undefined }])).map(plain);
  };
  for (const tag of opts.untag) {
    if (!block.some((t) => t.tag === tag)) throw usage(`--untag ${tag}: no traffic entry carries tag ${tag}`);
    drop(tag);
  }
  for (const v of opts.tag) {
    const [name, tag] = pair('tag', v);
    drop(tag);
    const target = ref(name);
    const same = (t: TrafficTarget) => (target.latestRevision ? t.latestRevision === true : t.revision === target.revision);
    const entry = block.find((t) => same(t) && !t.tag && t.percent > 0);
    if (entry) entry.tag = tag;
    else block.push({ ...target, percent: 0, tag });
  }
  return block;
}

/** `slipway traffic <app> --traffic REV=PCT… [--tag REV=TAG…] [--untag TAG…]`. */
export async function trafficCommand(ctx: CliContext, global: GlobalOptions, app: string, opts: TrafficOptions): Promise<number> {
  if (!opts.traffic.length && !opts.tag.length && !opts.untag.length) throw usage('say what to change: --traffic REV=PCT, --tag REV=TAG or --untag TAG');
  const client = apiClient(ctx, global);
  const status = await fetchStatus(client, app, opts.target);
  const after = await putTraffic(client, app, nextTraffic(status.traffic, opts), status.generation, status.target);
  ctx.stdout.write(`${describeTraffic(after)}\n`);
  return 0;
}

/** The revision serving most of the app's traffic now (ties: the newest). */
function servingMost(status: AppStatus): string | undefined {
  const share = new Map<string, number>();
  for (const t of status.traffic) if (t.revisionName && t.percent > 0) share.set(t.revisionName, (share.get(t.revisionName) ?? 0) + t.percent);
  return [...share].sort((a, b) => b[1] - a[1] || b[0].localeCompare(a[0], undefined, { numeric: true }))[0]?.[0];
}

/** `slipway rollback <app>`: all traffic to the ready revision before the one serving now; tags stay. */
export async function rollbackCommand(ctx: CliContext, global: GlobalOptions, app: string, opts: { target?: string }): Promise<number> {
  const client = apiClient(ctx, global);
  const status = await fetchStatus(client, app, opts.target);
  const current = servingMost(status);
  const serving = status.revisions.find((r) => r.name === current);
  if (!serving) throw new ApiError(`app ${app} takes no traffic on target ${status.target}; nothing to roll back`, undefined, undefined);
  const previous = latestReady(status.revisions.filter((r) => r.n < serving.n));
  if (!previous) throw new ApiError(`app ${app} has no ready revision before ${serving.name} to roll back to (slipway revisions ${app})`, undefined, undefined);
  const traffic = [{ revision: previous.name, percent: 100 }, ...status.traffic.filter((t) => t.tag).map((t) => ({ ...plain(t), percent: 0 }))];
  const after = await putTraffic(client, app, traffic, status.generation, status.target);
  ctx.stdout.write(`rolled back ${app} from ${serving.name} to ${previous.name}\n${describeTraffic(after)}\n`);
  return 0;
}
