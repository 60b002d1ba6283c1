import { isSlipwayError, SlipwayError } from '../core/errors.js';
import { appStatus, validateTraffic, withoutTag } from './traffic.js';
import type { AppStatus, Revision, ServingState, ServingTarget, SetTrafficOptions, TrafficTarget } from './types.js';

/**
 * The control-plane steps every target shares, over Slipway's store: an app's status, a traffic change
 * (validated, then compare-and-set on the route's generation), removing a tag, and the checks before a
 * revision may be deleted. Targets add what they do with the result (the local router refreshes, the knative
 * target applies a Service).
 */

export const trafficConflict = (app: string) =>
  new SlipwayError('SLW_TRAFFIC_CONFLICT', `the traffic of app ${app} changed while this change was being made; read it again (slipway revisions ${app}) and retry`);

export async function storedStatus(state: ServingState, target: string, domain: string, app: string): Promise<AppStatus> {
  const [route, revisions] = await Promise.all([state.getRoute(app, target), state.listRevisions(app, target)]);
  return appStatus(app, target, domain, route, revisions);
}

/** Validates and stores a traffic block; returns it normalized. Throws SLW_TRAFFIC_CONFLICT if someone wrote first. */
export async function storeTraffic(state: ServingState, target: string, app: string, traffic: readonly TrafficTarget[], options: SetTrafficOptions): Promise<TrafficTarget[]> {
  const [route, revisions] = await Promise.all([state.getRoute(app, target), state.listRevisions(app, target)]);
  const normalized = validateTraffic(app, traffic, revisions, { allowEmpty: options.allowEmpty === true });
  const current = route?.generation ?? 0;
  const expected = options.expectedGeneration ?? current;
  if (expected !== current || !(await state.putRoute(app, target, normalized, expected))) throw trafficConflict(app);
  return normalized;
}

/** Idempotent: removing a tag that is not there changes nothing (a preview closed twice). Retries lost races. */
export async function removeTagThrough(target: ServingTarget, app: string, tag: string): Promise<AppStatus> {
  for (let attempt = 1; ; attempt++) {
    const status = await target.status(app);
    if (!status.traffic.some((t) => t.tag === tag)) return status;
    try {
      return await target.setTraffic(app, withoutTag(status.traffic, tag), { expectedGeneration: status.generation, allowEmpty: true });
    } catch (err) {
      if (!isSlipwayError(err, 'SLW_TRAFFIC_CONFLICT') || attempt >= 5) throw err;
    }
  }
}

/** An app's revisions on the target that are not deleted, newest first. */
export async function liveRevisions(state: ServingState, target: string, app: string): Promise<Revision[]> {
  return (await state.listRevisions(app, target)).filter((r) => r.state !== 'deleted');
}

/**
 * Deletes a revision that exists on this target and takes no traffic and carries no tag: marks it deleted
 * (the row stays, so `<app>-<n>` is never handed out again), then `release` removes what runs it.
 */
export async function deleteRevisionThrough(target: ServingTarget, state: ServingState, app: string, name: string, release: () => Promise<void>): Promise<void> {
  await deletableRevision(target, state, app, name);
  await state.updateRevision(app, name, { state: 'deleted' });
  await release();
}

/** The revision, once it is known to exist on this target and to take no traffic and carry no tag. */
async function deletableRevision(target: ServingTarget, state: ServingState, app: string, name: string): Promise<Revision> {
  const revision = await state.getRevision(app, name);
  if (!revision || revision.target !== target.name || revision.state === 'deleted') {
    throw new SlipwayError('SLW_REVISION_NOT_FOUND', `app ${app} has no revision ${name} on target ${target.name}; slipway revisions ${app} lists them`);
  }
  const status = await target.status(app);
  const uses = status.traffic.filter((t) => t.revisionName === name);
  if (uses.length) {
    throw new SlipwayError('SLW_REVISION_IN_USE', `revision ${name} is in the traffic of app ${app} (${uses.map((t) => (t.tag ? `tag ${t.tag}` : `${t.percent}%`)).join(', ')}); move traffic and tags off it first (slipway traffic)`);
  }
  return revision;
}
