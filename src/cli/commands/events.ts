import type { RuntimeEventView } from '../../server/plugins/events-api.js';
import type { ApiClient } from '../../client/api-client.js';
import { apiClient, type CliContext, type GlobalOptions } from '../context.js';
import { formatTable } from '../table.js';

export interface EventsOptions {
  revision?: string;
  follow?: boolean;
  json?: boolean;
  /** Poll interval with --follow (ms); tests shorten it. */
  interval?: number;
  /** Stops --follow (tests; the CLI stops on SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

async function fetchEvents(client: ApiClient, app: string, q: { revision?: string; since?: string }): Promise<RuntimeEventView[]> {
  const params = new URLSearchParams();
  if (q.revision) params.set('revision', q.revision);
  if (q.since) params.set('since', q.since);
  params.set('limit', '1000');
  const res = await client.request(`/api/v1/apps/${encodeURIComponent(app)}/events?${params}`);
  return ((await res.json()) as { events: RuntimeEventView[] }).events;
}

const HEADERS = ['TIME', 'REVISION', 'DECISION', 'RULE', 'PATH', 'COUNT'];
const row = (e: RuntimeEventView): string[] => [e.lastAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), e.revision, e.decision, e.rule, e.path, String(e.count)];

/**
 * `slipway events <app> [--revision R] [-f] [--json]`: the enforcer's runtime decisions in the app's
 * revisions (denied and audited execs), newest last. `-f` polls every second and prints rows that are
 * new or whose count grew. Paths are shown as the API holds them: control characters escaped.
 */
export async function eventsCommand(ctx: CliContext, global: GlobalOptions, app: string, opts: EventsOptions): Promise<number> {
  const client = apiClient(ctx, global);
  const first = await fetchEvents(client, app, opts.revision ? { revision: opts.revision } : {});
  let headed = false;
  const print = (events: RuntimeEventView[]) => {
    if (opts.json) for (const e of events) ctx.stdout.write(`${JSON.stringify(e)}\n`);
    else if (events.length) {
      // Followed rows are aligned per batch; the header comes once.
      const table = formatTable(HEADERS, events.map(row)).split('\n');
      ctx.stdout.write(`${(headed ? table.slice(1) : table).join('\n')}\n`);
      headed = true;
    }
  };
  const oldestFirst = (events: RuntimeEventView[]) => [...events].reverse();
  if (!opts.follow) {
    if (opts.json) ctx.stdout.write(`${JSON.stringify({ app, events: first }, null, 2)}\n`);
    else if (first.length === 0) ctx.stdout.write(`no runtime decisions recorded for ${app}${opts.revision ? ` revision ${opts.revision}` : ''}\n`);
    else print(oldestFirst(first));
    return 0;
  }
  const counts = new Map(first.map((e) => [e.id, e.count]));
  print(oldestFirst(first));
  let since = first[0]?.lastAt;
  const signal = opts.signal ?? stopOnSignal();
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.interval ?? 1000);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    if (signal.aborted) break;
    const events = await fetchEvents(client, app, { ...(opts.revision ? { revision: opts.revision } : {}), ...(since ? { since } : {}) });
    const fresh = events.filter((e) => counts.get(e.id) !== e.count);
    for (const e of fresh) counts.set(e.id, e.count);
    if (events[0] && (!since || events[0].lastAt > since)) since = events[0].lastAt;
    print(oldestFirst(fresh));
  }
  return 0;
}

function stopOnSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}
