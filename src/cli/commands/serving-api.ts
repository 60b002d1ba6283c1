import type { AppStatus, TrafficTarget } from '../../targets/index.js';
import type { ApiClient } from '../../client/api-client.js';

/** Calls of the serving API (`/api/v1/apps/:app/revisions`, `…/traffic`) the serving commands share. */

const query = (target: string | undefined) => (target ? `?target=${encodeURIComponent(target)}` : '');

export async function fetchStatus(client: ApiClient, app: string, target?: string): Promise<AppStatus> {
  return (await (await client.request(`/api/v1/apps/${encodeURIComponent(app)}/revisions${query(target)}`)).json()) as AppStatus;
}

/** PUT with the generation read before: a concurrent change answers 409 instead of being overwritten. */
export async function putTraffic(client: ApiClient, app: string, traffic: TrafficTarget[], generation: number, target?: string): Promise<AppStatus> {
  const res = await client.request(`/api/v1/apps/${encodeURIComponent(app)}/traffic${query(target)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ traffic, generation }),
  });
  return (await res.json()) as AppStatus;
}

/** A traffic line for people: `80% → hello-2 (@latest) [candidate]`. */
export function describeTraffic(status: AppStatus): string {
  if (status.traffic.length === 0) return `app ${status.app} on ${status.target} takes no traffic yet`;
  const lines = status.traffic.map((t) => {
    const rev = t.latestRevision ? `${t.revisionName ?? '(none ready)'} (@latest)` : t.revision;
    return `  ${String(t.percent).padStart(3)}% → ${rev}${t.tag ? `  tag ${t.tag}: ${t.url}` : ''}`;
  });
  return `${status.url} (target ${status.target}):\n${lines.join('\n')}`;
}
