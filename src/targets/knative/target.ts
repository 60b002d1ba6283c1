import { setTimeout as sleep } from 'node:timers/promises';
import { SlipwayError } from '../../core/errors.js';
import { imageDigest, imageHost } from '../names.js';
import type { DeployOptions, PromoteRequest, PromoteResult, Revision, TargetDeps } from '../types.js';
import { StoredTarget } from '../stored-target.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { KnativeDecisionCollector } from './decisions.js';
import { isApiStatus, KnativeApi, loadKubeConfig, type LiveService } from './kube.js';
import { describeConditions, revisionVerdict, routeVerdict, type Verdict } from './readiness.js';
import { assertRevisionSpec, knativeService, MANAGED_BY_LABEL, revisionSecretName, ROUTE_GENERATION_ANNOTATION } from './service.js';
import type { KnativeTargetSettings } from './settings.js';

const MAX_APPLY_ATTEMPTS = 5;

/** `slipway-registry-<host>` as a DNS subdomain: `127.0.0.1:5001` → `slipway-registry-127-0-0-1-5001`. */
export const pullSecretName = (host: string): string =>
  `slipway-registry-${host
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')}`.slice(0, 253);

/**
 * The `knative` target: each app is one `serving.knative.dev/v1` Service. A revision is the Service's
 * template, named `<app>-<n>` (Knative's "bring your own revision name", so names match the local target's);
 * traffic is the Service's `traffic` block pinning revisions by name.
 *
 * Slipway's store stays the record of revisions (their numbers, builds and promotion order) and of the
 * traffic block, exactly as for the local target; the cluster is made to match it. Every apply states the
 * whole desired Service with server-side apply (field manager `slipway`) and is a compare-and-set on the
 * Service's resourceVersion, and the Service carries the route generation it was built from: a writer holding
 * an older traffic block reads again instead of overwriting a newer one.
 *
 * Knative reconciles asynchronously, so after each apply this target waits for the Service's status to answer
 * for the applied generation and reports the condition that failed, or the last one seen at the timeout.
 */
export class KnativeTarget extends StoredTarget {
  readonly kind = 'knative' as const;
  private client: KnativeApi | undefined;
  private kc: KubeConfig | undefined;
  private decisions: KnativeDecisionCollector | undefined;

  constructor(
    name: string,
    private readonly settings: KnativeTargetSettings,
    deps: TargetDeps,
  ) {
    super(name, settings.domain, deps);
  }

  /**
   * Loaded on first use, so a broken kubeconfig fails the calls that need this cluster (with a message naming
   * the file and context) rather than every Slipway command, including those about other targets.
   */
  private get api(): KnativeApi {
    this.client ??= new KnativeApi(this.kubeConfig, this.settings.namespace);
    return this.client;
  }

  private get kubeConfig(): KubeConfig {
    this.kc ??= loadKubeConfig(this.name, this.settings);
    return this.kc;
  }

  /**
   * Starts following the enforcer's decisions in the logs of this target's pods (when Slipway records
   * runtime events). Best effort: a kubeconfig that cannot be loaded, or rights it lacks, are logged and
   * leave deploys and promotions untouched.
   */
  collectRuntimeEvents(): void {
    if (this.decisions || !this.deps.events) return;
    let kc: KubeConfig;
    try {
      kc = this.kubeConfig;
    } catch (err) {
      this.deps.logger.warn({ err, target: this.name }, 'enforcer decisions of this Knative target are not collected');
      return;
    }
    this.decisions = new KnativeDecisionCollector({
      kc,
      namespace: this.settings.namespace,
      target: this.name,
      state: this.state,
      sink: this.deps.events,
      logger: this.deps.logger.child({ target: this.name }),
    });
    this.decisions.start();
  }

  /** Pods whose logs are followed now (tests). */
  get followedPods(): string[] {
    return this.decisions?.following ?? [];
  }

  async deploy(app: string, options: DeployOptions): Promise<Revision> {
    const digest = imageDigest(options.image);
    const spec = {
      env: options.env ?? {},
      ...(options.secrets && Object.keys(options.secrets).length ? { secrets: options.secrets } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      resources: options.resources ?? {},
      annotations: options.annotations ?? {},
    };
    // Checked before a name is allocated: a spec Knative would reject should not use up `<app>-<n>`.
    assertRevisionSpec(app, spec);
    void this.api; // and so should a kubeconfig that cannot be loaded
    const created = await this.state.createRevision({ app, target: this.name, image: options.image, digest, build: options.build, spec });
    const log = this.logger.child({ app, revision: created.name });
    try {
      await this.writeSecrets(created);
      const applied = await this.reconcile(app);
      await this.waitFor(app, applied, `revision ${created.name}`, 'SLW_REVISION_FAILED', (s, g) => revisionVerdict(s, g, created.name));
    } catch (err) {
      await this.state.updateRevision(app, created.name, { state: 'failed', message: (err as Error).message });
      log.warn({ err }, 'revision failed');
      // Knative reports a Service not Ready while its newest revision failed: put the last good template back.
      await this.reconcile(app).catch((again: unknown) => log.warn({ err: again }, 'could not restore the last ready template'));
      throw err;
    }
    await this.state.updateRevision(app, created.name, { state: 'ready' });
    log.info({ image: options.image }, 'revision ready');
    return { ...created, state: 'ready' };
  }

  protected trafficChanged(app: string): Promise<void> {
    return this.sync(app);
  }

  protected async release(_app: string, name: string): Promise<void> {
    await this.api.deleteRevision(name);
    await this.api.deleteSecret(revisionSecretName(name));
  }

  /** The revision's secret variables as its own Kubernetes Secret, which the template refers to (service.ts). */
  private async writeSecrets(revision: Revision): Promise<void> {
    const sealed = Object.entries(revision.spec.secrets ?? {});
    if (sealed.length === 0) return;
    const box = this.deps.secrets;
    if (!box)
      throw new SlipwayError(
        'SLW_SECRET_KEY',
        `revision ${revision.name} has secrets but this process has no secrets key to open them; run it with the same secrets key as the server (secrets.keyEnv)`,
      );
    const data = Object.fromEntries(sealed.map(([name, value]) => [name, box.open(revision.app, name, value)]));
    await this.api.createSecret(revisionSecretName(revision.name), data, { [MANAGED_BY_LABEL]: 'slipway', 'slipway.dev/app': revision.app });
  }

  override async promote(app: string, request: PromoteRequest): Promise<PromoteResult> {
    const result = await super.promote(app, request);
    // Moved with a reason: this call changed nothing, because the traffic was already stored. A retried
    // promotion lands here when the apply that followed the store failed, so apply again (a no-op when the
    // cluster already matches). A fresh move applied already, inside setTraffic.
    if (result.moved && result.reason !== undefined) await this.sync(app);
    return result;
  }

  /**
   * The Secret the Service's pods pull `image` with: the one named in the target's settings, else
   * `slipway-registry-<host>`, created or updated from the credentials Slipway has for the image's registry
   * (kubelet reads `auths.<host>.auth`); none when Slipway has none (anonymous pulls).
   */
  private async pullSecretFor(image: string): Promise<string | undefined> {
    if (this.settings.imagePullSecret) return this.settings.imagePullSecret;
    const host = imageHost(image);
    const credentials = await this.deps.registryCredentials?.(host);
    if (!credentials) return undefined;
    if (credentials.identityToken) {
      throw new SlipwayError(
        'SLW_REGISTRY_AUTH',
        `registry ${host}: Slipway's credentials for it are an identity token, which kubelet cannot pull with; set targets.${this.name}.imagePullSecret to a dockerconfigjson Secret with a user and password or token`,
      );
    }
    const name = pullSecretName(host);
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    await this.api.applyPullSecret(name, JSON.stringify({ auths: { [host]: { username: credentials.username, password: credentials.password, auth } } }));
    return name;
  }

  /** Applies the stored state of the app and waits until its route answers for it. */
  async sync(app: string): Promise<void> {
    const applied = await this.reconcile(app);
    if (applied) await this.waitFor(app, applied, `the route of app ${app}`, 'SLW_TARGET_REJECTED', routeVerdict);
  }

  /**
   * Applies the Service that the store describes now: the newest live revision (being deployed or ready) as
   * the template, and the stored traffic block. Undefined when the app has no such revision yet.
   */
  private async reconcile(app: string): Promise<LiveService | undefined> {
    let clusterAhead = '';
    for (let attempt = 1; attempt <= MAX_APPLY_ATTEMPTS; attempt++) {
      const [route, revisions] = await Promise.all([this.state.getRoute(app, this.name), this.state.listRevisions(app, this.name)]);
      const template = revisions.filter((r) => r.state === 'created' || r.state === 'ready').sort((a, b) => b.n - a.n)[0];
      if (!template) return undefined;
      const generation = route?.generation ?? 0;
      const live = await this.api.readService(app);
      const liveGeneration = Number(live?.metadata.annotations?.[ROUTE_GENERATION_ANNOTATION] ?? -1);
      if (liveGeneration > generation) {
        // Someone stored and applied a newer traffic block after we read ours: read the store again.
        clusterAhead = `the Service carries route generation ${liveGeneration} while Slipway's store has ${generation}`;
        await sleep(50 * attempt);
        continue;
      }
      const pullSecret = await this.pullSecretFor(template.image);
      const desired = knativeService({
        app,
        namespace: this.settings.namespace,
        template,
        traffic: route?.traffic ?? [],
        routeGeneration: generation,
        pullSecret,
      });
      if (live?.metadata.resourceVersion) desired.metadata.resourceVersion = live.metadata.resourceVersion;
      try {
        return await this.api.applyService(desired);
      } catch (err) {
        if (!isApiStatus(err, 409)) throw err;
      }
    }
    throw new SlipwayError(
      'SLW_TRAFFIC_CONFLICT',
      `Service ${this.settings.namespace}/${app} kept changing while Slipway applied it (${MAX_APPLY_ATTEMPTS} attempts)${clusterAhead ? `: ${clusterAhead}; is another Slipway (or a restored database) managing it?` : ''}`,
    );
  }

  /** Polls the Service until `verdict` says done or failed, or `readyTimeout` passes. */
  private async waitFor(
    app: string,
    applied: LiveService | undefined,
    what: string,
    code: 'SLW_REVISION_FAILED' | 'SLW_TARGET_REJECTED',
    verdict: (status: LiveService['status'], generation: number) => Verdict,
  ): Promise<void> {
    if (!applied) throw new SlipwayError('SLW_INTERNAL', `${what}: nothing was applied for app ${app}`);
    const generation = applied.metadata.generation ?? 0;
    const deadline = Date.now() + this.settings.readyTimeout;
    let current: LiveService | undefined = applied;
    for (let delay = 100; ; delay = Math.min(delay * 1.5, 1_000)) {
      const v = verdict(current.status, generation);
      if (v.done) return;
      if (v.failed) throw new SlipwayError(code, `${what} on Knative (${this.settings.namespace}/${app}) failed: ${v.failed}`);
      if (Date.now() >= deadline) {
        throw new SlipwayError(
          code,
          `${what} on Knative (${this.settings.namespace}/${app}) was not ready within ${Math.round(this.settings.readyTimeout / 1000)} s: ${describeConditions(current.status)}`,
        );
      }
      await sleep(delay);
      current = await this.api.readService(app);
      if (!current) throw new SlipwayError(code, `${what}: Service ${this.settings.namespace}/${app} was deleted while Slipway waited for it`);
    }
  }

  async close(): Promise<void> {
    // The API calls hold nothing open; the log followers and the pod watch do.
    this.decisions?.close();
    this.decisions = undefined;
  }
}
