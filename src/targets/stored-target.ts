import { isSlipwayError, SlipwayError } from '../core/errors.js';
import { promoteThrough } from './promote.js';
import { appStatus, validateTraffic, withoutTag } from './traffic.js';
import type {
  AppStatus,
  DeployOptions,
  PromoteRequest,
  PromoteResult,
  Revision,
  ServingTarget,
  SetTrafficOptions,
  TargetDeps,
  TrafficTarget,
} from './types.js';

/**
 * What every target built on Slipway's store shares: status, traffic changes (validated, then
 * compare-and-set on the route's generation), tags, listing, deletion and promotion go through the store
 * the same way; a target says what follows a traffic change (the local router refreshes, the knative target
 * applies its Service) and how a deleted revision is released.
 */
export abstract class StoredTarget implements ServingTarget {
  abstract readonly kind: ServingTarget['kind'];

  constructor(
    readonly name: string,
    /** Apps are `<app>.<domain>`. */
    protected readonly domain: string,
    protected readonly deps: TargetDeps,
  ) {
    this.logger = deps.logger.child({ target: name });
  }

  protected get state() {
    return this.deps.state;
  }

  /**
   * The target's logger, bound to its name once here: everything the target makes (containers, router,
   * decision collector) logs through it or a child of it, so no line carries `target` twice.
   */
  protected readonly logger: TargetDeps['logger'];

  abstract deploy(app: string, options: DeployOptions): Promise<Revision>;
  abstract close(): Promise<void>;
  /** Runs after a traffic block was stored. */
  protected abstract trafficChanged(app: string): Promise<void>;
  /** Removes what runs a revision that was just marked deleted. */
  protected abstract release(app: string, name: string): Promise<void>;

  async status(app: string): Promise<AppStatus> {
    const [route, revisions] = await Promise.all([this.state.getRoute(app, this.name), this.state.listRevisions(app, this.name)]);
    return appStatus(app, this.name, this.domain, route, revisions);
  }

  async setTraffic(app: string, traffic: TrafficTarget[], options: SetTrafficOptions = {}): Promise<AppStatus> {
    const [route, revisions] = await Promise.all([this.state.getRoute(app, this.name), this.state.listRevisions(app, this.name)]);
    const normalized = validateTraffic(app, traffic, revisions, { allowEmpty: options.allowEmpty === true });
    const current = route?.generation ?? 0;
    const expected = options.expectedGeneration ?? current;
    if (expected !== current || !(await this.state.putRoute(app, this.name, normalized, expected))) {
      throw new SlipwayError(
        'SLW_TRAFFIC_CONFLICT',
        `the traffic of app ${app} changed while this change was being made; read it again (slipway revisions ${app}) and retry`,
      );
    }
    this.logger.info({ app, traffic: normalized }, 'traffic set');
    await this.trafficChanged(app);
    return this.status(app);
  }

  /** Idempotent: removing a tag that is not there changes nothing (a preview closed twice). Retries lost races. */
  async removeTag(app: string, tag: string): Promise<AppStatus> {
    for (let attempt = 1; ; attempt++) {
      const status = await this.status(app);
      if (!status.traffic.some((t) => t.tag === tag)) return status;
      try {
        return await this.setTraffic(app, withoutTag(status.traffic, tag), { expectedGeneration: status.generation, allowEmpty: true });
      } catch (err) {
        if (!isSlipwayError(err, 'SLW_TRAFFIC_CONFLICT') || attempt >= 5) throw err;
      }
    }
  }

  async listRevisions(app: string): Promise<Revision[]> {
    return (await this.state.listRevisions(app, this.name)).filter((r) => r.state !== 'deleted');
  }

  /**
   * Deletes a revision that exists on this target and takes no traffic and carries no tag: marks it deleted
   * (the row stays, so `<app>-<n>` is never handed out again), then releases what runs it.
   */
  async deleteRevision(app: string, name: string): Promise<void> {
    const revision = await this.state.getRevision(app, name);
    if (!revision || revision.target !== this.name || revision.state === 'deleted') {
      throw new SlipwayError('SLW_REVISION_NOT_FOUND', `app ${app} has no revision ${name} on target ${this.name}; slipway revisions ${app} lists them`);
    }
    const status = await this.status(app);
    const uses = status.traffic.filter((t) => t.revisionName === name);
    if (uses.length) {
      throw new SlipwayError(
        'SLW_REVISION_IN_USE',
        `revision ${name} is in the traffic of app ${app} (${uses.map((t) => (t.tag ? `tag ${t.tag}` : `${t.percent}%`)).join(', ')}); move traffic and tags off it first (slipway traffic)`,
      );
    }
    await this.state.updateRevision(app, name, { state: 'deleted' });
    await this.release(app, name);
    this.logger.info({ app, revision: name }, 'revision deleted');
  }

  promote(app: string, request: PromoteRequest): Promise<PromoteResult> {
    return promoteThrough(this, this.state, app, request);
  }
}
