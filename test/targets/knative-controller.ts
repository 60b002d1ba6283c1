import type { Kube } from '../helpers/kube.js';

/**
 * Plays Knative Serving's controller against the real kube-apiserver, because none can run here:
 * for each Service whose status lags its generation it creates the template's Revision (as the Configuration
 * controller does), resolves the traffic block, and writes the Service's status through the status
 * subresource, as knative-api-specification-1.0.md describes it. Strict where Knative is: a traffic entry naming a
 * revision that is not ready makes RoutesReady False; an image listed in `failing` makes its revision fail.
 */

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime: string;
}

interface ServiceObject {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string; uid: string };
  spec: {
    template: { metadata?: { name?: string }; spec: { containers: { image: string }[] } };
    traffic?: { revisionName?: string; latestRevision?: boolean; percent?: number; tag?: string }[];
  };
  status?: { observedGeneration?: number; latestReadyRevisionName?: string };
}

const condition = (type: string, ok: boolean, reason?: string, message?: string): Condition => ({
  type,
  status: ok ? 'True' : 'False',
  ...(ok ? {} : { reason: reason ?? 'Failed', message: message ?? '' }),
  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
});

export class FakeKnativeController {
  /** Images whose revisions fail, with the message Knative would give. */
  readonly failing = new Map<string, string>();
  /** Revision names the controller made ready. */
  readonly ready = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly kube: Kube,
    private readonly namespace = 'default',
    private readonly domain = 'example.com',
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), 50);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private base(kind: 'services' | 'revisions') {
    return `/apis/serving.knative.dev/v1/namespaces/${this.namespace}/${kind}`;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const list = await this.kube.call<{ items?: ServiceObject[] }>('GET', this.base('services'));
      for (const svc of list.body.items ?? []) {
        if (svc.status?.observedGeneration !== svc.metadata.generation) await this.reconcile(svc);
      }
    } catch (err) {
      // The next tick tries again, as a controller's work queue would.
      this.errors.push(String(err));
    } finally {
      this.busy = false;
    }
  }

  private async reconcile(svc: ServiceObject): Promise<void> {
    const name = svc.metadata.name;
    this.admit(svc);
    const revision = svc.spec.template.metadata?.name ?? `${name}-00001`;
    const image = svc.spec.template.spec.containers[0]?.image ?? '';
    const failure = this.failing.get(image);
    await this.ensureRevision(svc, revision, failure);

    const latestReady = failure ? svc.status?.latestReadyRevisionName : revision;
    const traffic = (svc.spec.traffic?.length ? svc.spec.traffic : [{ latestRevision: true, percent: 100 }]).map((t) => {
      const revisionName = t.latestRevision ? latestReady : t.revisionName;
      return {
        ...(revisionName ? { revisionName } : {}),
        latestRevision: t.latestRevision === true,
        percent: t.percent ?? 0,
        ...(t.tag ? { tag: t.tag, url: `http://${t.tag}-${name}.${this.namespace}.${this.domain}` } : {}),
      };
    });
    const missing = traffic.filter((t) => !t.revisionName || !this.ready.has(t.revisionName));
    const routesOk = missing.length === 0;
    const configOk = !failure;
    const status = {
      observedGeneration: svc.metadata.generation,
      latestCreatedRevisionName: revision,
      ...(latestReady ? { latestReadyRevisionName: latestReady } : {}),
      url: `http://${name}.${this.namespace}.${this.domain}`,
      ...(routesOk ? { traffic } : {}),
      conditions: [
        condition('ConfigurationsReady', configOk, 'RevisionFailed', `Revision "${revision}" failed with message: ${failure ?? ''}.`),
        condition(
          'Ready',
          configOk && routesOk,
          configOk ? 'RevisionMissing' : 'RevisionFailed',
          configOk
            ? `Revision "${missing[0]?.revisionName ?? '?'}" referenced in traffic not found.`
            : `Revision "${revision}" failed with message: ${failure ?? ''}.`,
        ),
        condition('RoutesReady', routesOk, 'RevisionMissing', `Revision "${missing[0]?.revisionName ?? '?'}" referenced in traffic not found.`),
      ],
    };
    this.check(await this.kube.call('PUT', `${this.base('services')}/${name}/status`, { ...svc, status }), `status of Service ${name}`);
  }

  /** What the API server refused (a conflict is retried on the next tick; anything else is a bug in this fake). */
  readonly errors: string[] = [];

  private check(res: { status: number; body: unknown }, what: string): void {
    if (res.status >= 300 && res.status !== 409) this.errors.push(`${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 1000)}`);
  }

  /**
   * The webhook rules the CRD schema cannot express (knative-api-specification-1.0.md, "TrafficTarget";
   * docs: "Revision names are immutable"): Knative's admission webhook would refuse such an apply.
   */
  private admit(svc: ServiceObject): void {
    const traffic = svc.spec.traffic ?? [];
    const sum = traffic.reduce((s, t) => s + (t.percent ?? 0), 0);
    if (traffic.length && sum !== 100) this.errors.push(`webhook: Service ${svc.metadata.name}: traffic percents sum to ${sum}, not 100`);
    const tags = traffic.flatMap((t) => (t.tag ? [t.tag] : []));
    if (new Set(tags).size !== tags.length) this.errors.push(`webhook: Service ${svc.metadata.name}: a tag is used twice (${tags.join(', ')})`);
    for (const t of traffic) {
      if (t.latestRevision === (t.revisionName !== undefined))
        this.errors.push(`webhook: Service ${svc.metadata.name}: a traffic entry needs exactly one of revisionName and latestRevision: true`);
    }
  }

  /** Creates the template's Revision once, Ready or failed, as the Configuration controller would. */
  private async ensureRevision(svc: ServiceObject, revision: string, failure: string | undefined): Promise<void> {
    const existing = await this.kube.call<{ spec: unknown }>('GET', `${this.base('revisions')}/${revision}`);
    if (existing.status === 200) {
      // Bring-your-own revision names are immutable: the same name must always mean the same spec.
      const { spec: had } = existing.body as { spec: { containers: unknown } };
      if (JSON.stringify(had.containers) !== JSON.stringify(svc.spec.template.spec.containers))
        this.errors.push(`webhook: revision ${revision} exists with another spec: ${JSON.stringify(had)} vs ${JSON.stringify(svc.spec.template.spec)}`);
      return;
    }
    const created = await this.kube.call<{ metadata: { resourceVersion: string } }>('POST', this.base('revisions'), {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Revision',
      metadata: {
        name: revision,
        namespace: this.namespace,
        labels: { 'serving.knative.dev/service': svc.metadata.name, 'serving.knative.dev/configuration': svc.metadata.name },
        ownerReferences: [{ apiVersion: 'serving.knative.dev/v1', kind: 'Configuration', name: svc.metadata.name, uid: svc.metadata.uid, controller: true }],
      },
      spec: svc.spec.template.spec,
    });
    if (created.status !== 201) return this.check(created, `creating Revision ${revision}`);
    if (!failure) this.ready.add(revision);
    const res = await this.kube.call('PUT', `${this.base('revisions')}/${revision}/status`, {
      ...(created.body as object),
      status: { observedGeneration: 1, conditions: [condition('Ready', !failure, 'ContainerMissing', failure)] },
    });
    this.check(res, `status of Revision ${revision}`);
  }
}
