import { deleteRevisionThrough, liveRevisions, removeTagThrough, storedStatus, storeTraffic } from './control.js';
import { promoteThrough } from './promote.js';
import type { AppStatus, DeployOptions, PromoteRequest, PromoteResult, Revision, ServingTarget, SetTrafficOptions, TargetDeps, TrafficTarget } from './types.js';

/**
 * What every target built on Slipway's store shares: status, traffic changes, tags, listing, deletion and
 * promotion go through the store the same way; a target says what follows a traffic change (the local
 * router refreshes, the knative target applies its Service) and how a deleted revision is released.
 */
export abstract class StoredTarget implements ServingTarget {
  abstract readonly kind: ServingTarget['kind'];

  constructor(
    readonly name: string,
    /** Apps are `<app>.<domain>`. */
    protected readonly domain: string,
    protected readonly deps: TargetDeps,
  ) {}

  protected get state() {
    return this.deps.state;
  }

  protected get logger() {
    return this.deps.logger;
  }

  abstract deploy(app: string, options: DeployOptions): Promise<Revision>;
  abstract close(): Promise<void>;
  /** Runs after a traffic block was stored. */
  protected abstract trafficChanged(app: string): Promise<void>;
  /** Removes what runs a revision that was just marked deleted. */
  protected abstract release(app: string, name: string): Promise<void>;

  status(app: string): Promise<AppStatus> {
    return storedStatus(this.state, this.name, this.domain, app);
  }

  async setTraffic(app: string, traffic: TrafficTarget[], options: SetTrafficOptions = {}): Promise<AppStatus> {
    const normalized = await storeTraffic(this.state, this.name, app, traffic, options);
    this.logger.info({ app, target: this.name, traffic: normalized }, 'traffic set');
    await this.trafficChanged(app);
    return this.status(app);
  }

  removeTag(app: string, tag: string): Promise<AppStatus> {
    return removeTagThrough(this, app, tag);
  }

  listRevisions(app: string): Promise<Revision[]> {
    return liveRevisions(this.state, this.name, app);
  }

  async deleteRevision(app: string, name: string): Promise<void> {
    await deleteRevisionThrough(this, this.state, app, name, () => this.release(app, name));
    this.logger.info({ app, revision: name, target: this.name }, 'revision deleted');
  }

  promote(app: string, request: PromoteRequest): Promise<PromoteResult> {
    return promoteThrough(this, this.state, app, request);
  }
}
