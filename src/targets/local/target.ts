import { resolve } from 'node:path';
import { SlipwayError } from '../../core/errors.js';
import { hostPort } from '../../core/host-port.js';
import { imageDigest } from '../names.js';
import { collectable } from '../traffic.js';
import { StoredTarget } from '../stored-target.js';
import type { DeployOptions, Revision, ServingHandle, TargetDeps } from '../types.js';
import { Containers } from './containers.js';
import { DecisionCollector } from './decisions.js';
import { DockerEngine } from './docker.js';
import { LocalServing } from './serving.js';
import type { LocalTargetSettings } from './settings.js';

/**
 * The `local` target: revisions are containers on this machine's Docker Engine, served by Slipway's
 * router. This object is the control plane (any process may deploy or change traffic: it all goes
 * through the store and the Engine); `serve()` adds the data plane (router and autoscaler) to this process.
 */
export class LocalTarget extends StoredTarget {
  readonly kind = 'local' as const;
  private readonly engine: DockerEngine;
  private readonly containers: Containers;
  private serving: LocalServing | undefined;

  constructor(
    name: string,
    private readonly settings: LocalTargetSettings,
    deps: TargetDeps,
    /** Overrides for tests and the bench: listen on another address. */
    private readonly overrides: { listen?: string } = {},
  ) {
    super(name, settings.domain, deps);
    this.engine = new DockerEngine(settings.docker);
    this.containers = new Containers({
      engine: this.engine,
      target: name,
      labels: deps.labels ?? {},
      startTimeout: settings.startTimeout,
      drainTimeout: settings.drainTimeout,
      ...(deps.apps ? { apps: deps.apps } : {}),
      ...(deps.secrets ? { secrets: deps.secrets } : {}),
      runRoot: resolve(deps.dataDir ?? '.slipway', 'run', name),
      logger: this.logger,
      registryCredentials: deps.registryCredentials,
    });
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
      spec: {
        env: options.env ?? {},
        ...(options.secrets && Object.keys(options.secrets).length ? { secrets: options.secrets } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        resources: options.resources ?? {},
        annotations: options.annotations ?? {},
      },
    });
    const log = this.logger.child({ app, revision: created.name });
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

  protected async trafficChanged(app: string): Promise<void> {
    await this.serving?.refresh();
    await this.collectGarbage(app);
  }

  protected async release(_app: string, name: string): Promise<void> {
    await this.containers.removeRevision(name);
    await this.serving?.refresh();
  }

  /** Deletes revisions nothing references beyond the newest `keepRevisions` (failures are logged, not thrown). */
  private async collectGarbage(app: string): Promise<void> {
    const status = await this.status(app);
    for (const r of collectable(status.revisions, status.traffic, this.settings.keepRevisions)) {
      await this.deleteRevision(app, r.name).catch((err: unknown) =>
        this.logger.warn({ err, revision: r.name }, 'garbage collection could not delete a revision'),
      );
    }
  }

  async serve(): Promise<ServingHandle> {
    if (this.serving) throw new SlipwayError('SLW_INTERNAL', `target ${this.name} already serves in this process`);
    const serving = new LocalServing({
      target: this.name,
      domain: this.settings.domain,
      listen: hostPort(this.overrides.listen ?? this.settings.listen),
      pool: this.settings,
      state: this.state,
      containers: this.containers,
      logger: this.logger,
      trustProxy: this.settings.trustProxy,
      ...(this.deps.events
        ? { decisions: new DecisionCollector({ engine: this.engine, sink: this.deps.events, target: this.name, logger: this.logger }) }
        : {}),
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
