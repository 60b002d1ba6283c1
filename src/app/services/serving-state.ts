import type { Kysely } from 'kysely';
import type { Digest } from '../../core/types.js';
import {
  createServingRevision,
  findRevisionForBuild,
  getRevision,
  getRoute,
  listLiveTargetRevisions,
  listRevisions,
  listRoutes,
  putRoute,
  updateRevision,
  type Database,
  type RevisionRow,
  type RouteRow,
} from '../../store/index.js';
import type { Revision, RevisionSpec, RevisionState, RouteRecord, ServingState, TrafficTarget } from '../../targets/index.js';

/**
 * The store seen as the serving targets' `ServingState` (targets may not import the store: docs/architecture.md
 * "Modules"). Rows hold JSON text; this is where it becomes typed records.
 */

const EMPTY_SPEC: RevisionSpec = { env: {}, resources: {}, annotations: {} };

function toRevision(row: RevisionRow): Revision {
  return {
    name: row.name,
    app: row.app,
    target: row.target,
    n: Number(row.n),
    image: row.image ?? row.digest,
    digest: row.digest as Digest,
    build: row.build_id && row.commit_sha && row.build_created_at ? { id: row.build_id, commit: row.commit_sha, createdAt: row.build_created_at } : undefined,
    state: row.state as RevisionState,
    message: row.message ?? undefined,
    createdAt: row.created_at,
    promotedAt: row.promoted_at ?? undefined,
    spec: row.spec ? (JSON.parse(row.spec) as RevisionSpec) : EMPTY_SPEC,
  };
}

const toRoute = (row: RouteRow): RouteRecord => ({ app: row.app, traffic: JSON.parse(row.traffic) as TrafficTarget[], generation: Number(row.generation) });

export function servingState(db: Kysely<Database>): ServingState {
  return {
    async createRevision(r) {
      const row = await createServingRevision(db, {
        app: r.app,
        target: r.target,
        digest: r.digest,
        image: r.image,
        buildId: r.build?.id ?? null,
        commit: r.build?.commit ?? null,
        buildCreatedAt: r.build?.createdAt ?? null,
        spec: JSON.stringify(r.spec),
      });
      return toRevision(row);
    },
    async getRevision(app, name) {
      const row = await getRevision(db, app, name);
      return row && toRevision(row);
    },
    async findRevisionForBuild(app, target, buildId, digest) {
      const row = await findRevisionForBuild(db, { app, target, buildId, digest });
      return row && toRevision(row);
    },
    updateRevision: (app, name, patch) => updateRevision(db, app, name, patch),
    async listRevisions(app, target) {
      return (await listRevisions(db, app)).filter((r) => r.target === target).map(toRevision);
    },
    async listLiveRevisions(target) {
      return (await listLiveTargetRevisions(db, target)).map(toRevision);
    },
    async getRoute(app, target) {
      const row = await getRoute(db, app, target);
      return row && toRoute(row);
    },
    async listRoutes(target) {
      return (await listRoutes(db, target)).map(toRoute);
    },
    putRoute: (app, target, traffic, expected) => putRoute(db, app, target, JSON.stringify(traffic), expected),
  };
}
