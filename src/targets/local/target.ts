import { SlipwayError } from '../../core/errors.js';
import { imageDigest } from '../names.js';
import { promoteThrough } from '../promote.js';
import { appStatus, collectable, validateTraffic, withoutTag } from '../traffic.js';
import type {
  AppStatus,
  DeployOptions,
  PromoteRequest,
  PromoteResult,
  Revision,
  ServingHandle,
  ServingTarget,
  SetTrafficOptions,
  TargetDeps,
  TrafficTarget,
} from '../types.js';
import { Containers } from './containers.js';
import { DockerEngine } from './docker.js';
import { LocalServing } from './serving.js';
import type { LocalTargetSettings } from './settings.js';

/** `host:port` → parts (IPv6 in brackets). */
function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

const conflict = (app: string) => new SlipwayError('SLW_TRAFFIC_CONFLICT', `the traffic of app ${app} changed while this change was being made; read it again (slipway revisions ${app}) and retry`);

/**
 * The `local` target: revisions are containers on this machine's Docker Engine, served by Slipway's
 * router. This object is the control plane (any process may deploy or change traffic: it all goes
 * through the store and the Engine); `serve()` adds the data plane (router and autoscaler) to this process.
 */
export class LocalTarget implements ServingTarget {
  readonly kind = 'local' as const;
  private readonly engine: DockerEngine;
  private readonly containers: Containers;
  private serving: LocalServing | undefined;

  constructor(
    readonly name: string,
    private readonly settings: LocalTargetSettings,
    private readonly deps: TargetDeps,
    /** Overrides for tests and the bench: listen on another address. */
    private readonly overrides: { listen?: string } = {},
  ) {
    this.engine = new DockerEngine(settings.docker);
    this.containers = new Containers({ engine: this.engine, target: name, labels: deps.labels ?? {}, startTimeout: settings.startTimeout, drainTimeout: settings.drainTimeout });
  }

  private get state() {
    return this.deps.state;
  }

  async deploy(app: string, options: DeployOptions): Promise<Revision> {
    const digest = imageDigest(options.image);
    // Pull before a name is allocated: an image that cannot be pulled should not use up `<app>-<n>`.
    await this.containers.ensureImage(options.image);
    const created = await this.state.createRevision({
      app,
      target: this.name,
      image: options.image,
      digest,
      build: options.build,
      spec: { env: options.env ?? {}, ...(options.port !== undefined ? { port: options.port } : {}), resources: options.resources ?? {}, annotations: options.annotations ?? {} },
    });
    const log = this.deps.logger.child({ app, revision: created.name, target: this.name });
    let instance;
    try {
      instance = await this.containers.launch(created);
    } catch (err) {
      await this.state.updateRevision(app, created.name, { state: 'failed', message: (err as Error).message });
      log.warn({ err }, 'revision failed');
      throw err;
    }
    await this.state.updateRevision(app, created.name, { state: 'ready' });
    const revision: Revision = { ...created, state: 'ready' };
    log.info({ image: options.image }, 'revision ready');
    // With the router in this process its pool takes the container; otherwise the router adopts it by label.
    if (this.serving) await this.serving.handOver(revision, instance);
    await this.collectGarbage(app);
    return revision;
  }

  async status(app: string): Promise<AppStatus> {
    const [route, revisions] = await Promise.all([this.state.getRoute(app, this.name), this.state.listRevisions(app, this.name)]);
    return appStatus(app, this.name, this.settings.domain, route, revisions);
  }

  async setTraffic(app: string, traffic: TrafficTarget[], options: SetTrafficOptions = {}): Promise<AppStatus> {
    const [route, revisions] = await Promise.all([this.state.getRoute(app, this.name), this.state.listRevisions(app, this.name)]);
    const normalized = validateTraffic(app, traffic, revisions, { allowEmpty: options.allowEmpty === true });
    const current = route?.generation ?? 0;
    const expected = options.expectedGeneration ?? current;
    if (expected !== current || !(await this.state.putRoute(app, this.name, normalized, expected))) throw conflict(app);
    this.deps.logger.info({ app, target: this.name, traffic: normalized }, 'traffic set');
    await this.serving?.refresh();
    await this.collectGarbage(app);
    return this.status(app);
  }

  /** Idempotent: removing a tag that is not there changes nothing (a preview closed twice). */
  async removeTag(app: string, tag: string): Promise<AppStatus> {
    for (let attempt = 1; ; attempt++) {
      const status = await this.status(app);
      if (!status.traffic.some((t) => t.tag === tag)) return status;
      try {
        return await this.setTraffic(app, withoutTag(status.traffic, tag), { expectedGeneration: status.generation, allowEmpty: true });
      } catch (err) {
        if (!(err instanceof SlipwayError && err.code === 'SLW_TRAFFIC_CONFLICT') || attempt >= 5) throw err;
      }
    }
  }

  async listRevisions(app: string): Promise<Revision[]> {
    return (await this.state.listRevisions(app, this.name)).filter((r) => r.state !== 'deleted');
  }

  async deleteRevision(app: string, name: string): Promise<void> {
    const revision = await this.state.getRevision(app, name);
    if (!revision || revision.target !== this.name || revision.state === 'deleted') {
      throw new SlipwayError('SLW_REVISION_NOT_FOUND', `app ${app} has no revision ${name} on target ${this.name}; slipway revisions ${app} lists them`);
    }
    const status = await this.status(app);
    const uses = status.traffic.filter((t) => t.revisionName === name);
    if (uses.length) {
      throw new SlipwayError('SLW_REVISION_IN_USE', `revision ${name} is in the traffic of app ${app} (${uses.map((t) => (t.tag ? `tag ${t.tag}` : `${t.percent}%`)).join(', ')}); move traffic and tags off it first (slipway traffic)`);
    }
    // The row stays (state deleted): `<app>-<n>` is never handed out again.
    await this.state.updateRevision(app, name, { state: 'deleted' });
    await this.containers.removeRevision(name);
    await this.serving?.refresh();
    this.deps.logger.info({ app, revision: name, target: this.name }, 'revision deleted');
  }

  promote(app: string, request: PromoteRequest): Promise<PromoteResult> {
    return promoteThrough(this, this.state, app, request);
  }

  /** Deletes revisions nothing references beyond the newest `keepRevisions` (failures are logged, not thrown). */
  private async collectGarbage(app: string): Promise<void> {
    const status = await this.status(app);
    for (const r of collectable(status.revisions, status.traffic, this.settings.keepRevisions)) {
      await this.deleteRevision(app, r.name).catch((err: unknown) => this.deps.logger.warn({ err, revision: r.name }, 'garbage collection could not delete a revision'));
    }
  }

  async serve(): Promise<ServingHandle> {
    if (this.serving) throw new SlipwayError('SLW_INTERNAL', `target ${this.name} already serves in this process`);
    const serving = new LocalServing({
      target: this.name,
      domain: this.settings.domain,
      listen: splitListen(this.overrides.listen ?? this.settings.listen),
      pool: this.settings,
      state: this.state,
      containers: this.containers,
      logger: this.deps.logger.child({ target: this.name }),
    });
    const handle = await serving.start();
    this.serving = serving;
    return {
      address: handle.address,
      close: async () => {
        this.serving = undefined;
        await handle.close();
      },
    };
  }

  /** The data plane's view of a revision's containers (tests, bench). */
  containerCounts(revision: string) {
    return this.serving?.poolCounts(revision);
  }

  async close(): Promise<void> {
    const serving = this.serving;
    this.serving = undefined;
    await serving?.close();
    this.engine.close();
  }
}
