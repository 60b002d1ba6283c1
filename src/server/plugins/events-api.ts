import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors.js';
import { DNS_LABEL_RE } from '../../core/types.js';
import { appHasRecords, listRuntimeEvents, type RuntimeEventCount, type RuntimeEvent } from '../../store/index.js';
import type { ServerDeps } from '../deps.js';
import { singleQuery } from '../query.js';

/**
 * `GET /api/v1/apps/:app/events[?revision=&since=&limit=]`: what the enforcer decided at run time in
 * the app's revisions, newest first, one row per (revision, minute, decision, rule, path) with a count.
 * Every row came from a container's stderr, which the app writes too: shown, never trusted.
 */

/** A stored count as the API shows it: the store's shape less the app (in the path) and the minute key. */
export type RuntimeEventView = Omit<RuntimeEventCount, 'app' | 'minute'> & { id: number };

const view = (r: RuntimeEvent): RuntimeEventView => ({
  id: r.id,
  revision: r.revision,
  target: r.target,
  container: r.container.slice(0, 12),
  decision: r.decision,
  rule: r.rule,
  syscall: r.syscall,
  path: r.path,
  sha256: r.sha256,
  uid: r.uid,
  parent: r.parent,
  firstAt: r.firstAt,
  lastAt: r.lastAt,
  count: r.count,
});

const REVISION_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function sinceOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw new SlipwayError('SLW_BAD_REQUEST', `query parameter "since" must be an RFC 3339 time such as 2025-01-31T12:00:00Z`);
  return new Date(ms).toISOString();
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 100;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 1000)) throw new SlipwayError('SLW_BAD_REQUEST', 'query parameter "limit" must be a whole number from 1 to 1000');
  return n;
}

export async function eventsApiPlugin(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  app.get<{ Params: { app: string } }>('/api/v1/apps/:app/events', { config: { access: 'read' } }, async (request) => {
    const name = request.params.app;
    if (!DNS_LABEL_RE.test(name))
      throw new SlipwayError('SLW_BAD_REQUEST', `"${name}" is not an app name (a DNS label: lower-case letters, digits and dashes)`);
    const revision = singleQuery(request.query, 'revision');
    if (revision !== undefined && !REVISION_RE.test(revision))
      throw new SlipwayError('SLW_BAD_REQUEST', `"revision" must be a revision name such as ${name}-3`);
    const since = sinceOf(singleQuery(request.query, 'since'));
    const limit = limitOf(singleQuery(request.query, 'limit'));
    if (!deps.config.apps.some((a) => a.name === name) && !(await appHasRecords(deps.store.db, name))) {
      throw new SlipwayError('SLW_NOT_FOUND', `app ${name} is neither configured nor has revisions here`);
    }
    const rows = await listRuntimeEvents(deps.store.db, {
      app: name,
      limit,
      ...(revision !== undefined ? { revision } : {}),
      ...(since !== undefined ? { since } : {}),
    });
    return { app: name, events: rows.map(view) };
  });
}
