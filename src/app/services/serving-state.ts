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
  type Revision as StoredRevision,
  type Route,
} from '../../store/index.js';
import type { Revision, RevisionSpec, RevisionState, RouteRecord, ServingState, TrafficTarget } from '../../targets/index.js';

/**
 * The store seen as the serving targets' `ServingState` (targets may not import the store: docs/architecture.md
 * "Modules"). The store keeps the targets' spec and traffic as JSON text; this is where it becomes their types.
 */

const EMPTY_SPEC: RevisionSpec = { env: {}, resources: {}, annotations: {} };

function toRevision(stored: StoredRevision): Revision {
  return {
    name: stored.name,
    app: stored.app,
    target: stored.target,
    n: stored.n,
    image: stored.image ?? stored.digest,
    digest: stored.digest as Digest,
    build:
      stored.buildId && stored.commit && stored.buildCreatedAt ? { id: stored.buildId, commit: stored.commit, createdAt: stored.buildCreatedAt } : undefined,
    state: stored.state as RevisionState,
    message: stored.message ?? undefined,
    createdAt: stored.createdAt,
    promotedAt: stored.promotedAt ?? undefined,
    spec: stored.spec ? (JSON.parse(stored.spec) as RevisionSpec) : EMPTY_SPEC,
  };
}

const toRoute = (route: Route): RouteRecord => ({ app: route.app, traffic: JSON.parse(route.traffic) as TrafficTarget[], generation: route.generation });

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
