import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { SlipwayError } from '../../core/errors.js';
import type { KnativeService } from './service.js';

/**
 * The few Kubernetes calls the knative target makes, through `@kubernetes/client-node`: server-side apply of
 * a Service (field manager `slipway`), reads, and deletes. Kubernetes' errors become Slipway errors that say
 * what to fix; the kubeconfig's credentials never appear in them.
 */

export const FIELD_MANAGER = 'slipway';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

/** The part of a Service's status Slipway reads (knative-api-specification-1.0.md, "ServiceStatus"). */
export interface ServiceStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  latestCreatedRevisionName?: string;
  latestReadyRevisionName?: string;
  url?: string;
  traffic?: { revisionName?: string; latestRevision?: boolean; percent?: number; tag?: string; url?: string }[];
}

export type LiveService = KnativeService & { metadata: KnativeService['metadata'] & { generation?: number; resourceVersion?: string }; status?: ServiceStatus };

const expandHome = (path: string): string => (path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path);

/** Loads the kubeconfig, failing with a message that names the file and the context to fix. */
export function loadKubeConfig(target: string, settings: { kubeconfig: string; context?: string | undefined }): KubeConfig {
  const path = expandHome(settings.kubeconfig);
  if (!existsSync(path)) {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `targets.${target}.kubeconfig: ${path} does not exist; point it at the kubeconfig of the cluster running Knative Serving`,
    );
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `targets.${target}.kubeconfig: ${path} is not a readable kubeconfig (${(err as Error).message.split('\n')[0]})`,
    );
  }
  if (settings.context !== undefined) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(settings.context)) {
      throw new SlipwayError(
        'SLW_CONFIG_INVALID',
        `targets.${target}.context: ${path} has no context "${settings.context}" (it has: ${names.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(settings.context);
  }
  if (!kc.getCurrentCluster())
    throw new SlipwayError('SLW_CONFIG_INVALID', `targets.${target}.kubeconfig: ${path} has no current context; set targets.${target}.context`);
  return kc;
}

/** The `message` of a Kubernetes `Status` body, which says what the API server refused and why. */
function statusMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.trim().slice(0, 500);
    }
  }
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : 'no message';
}

/** A Kubernetes `Status` object, as the API answers about an object (not the mux's plain-text 404 for an unknown path). */
function isStatusBody(body: unknown): boolean {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return false;
    }
  }
  return (parsed as { kind?: unknown } | null)?.kind === 'Status';
}

/** The object is missing (a Status 404), as opposed to its whole resource type. */
const isMissingObject = (err: unknown): boolean =>
  isApiStatus(err, 404) &&
  isStatusBody((err as ApiException<unknown>).body) &&
  !/could not find the requested resource/.test(statusMessage((err as ApiException<unknown>).body));

export const isApiStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

/** A Kubernetes client failure as a Slipway error (retryable when the cluster could not be reached). */
export function kubeError(err: unknown, what: string, server: string): SlipwayError {
  if (err instanceof SlipwayError) return err;
  if (err instanceof ApiException) {
    const code = err.code;
    const message = statusMessage(err.body);
    if (code === 401 || code === 403) {
      return new SlipwayError(
        'SLW_TARGET_REJECTED',
        `${what}: the cluster at ${server} refused Slipway's credentials (${code}: ${message}); give the kubeconfig's user rights on services.serving.knative.dev and revisions.serving.knative.dev`,
      );
    }
    // A 404 from the router rather than a Status about one object: the resource type itself is not served.
    if (code === 404 && (!isStatusBody(err.body) || /could not find the requested resource/.test(message))) {
      return new SlipwayError(
        'SLW_TARGET_REJECTED',
        `${what}: the cluster at ${server} does not serve serving.knative.dev/v1 (${message}); install Knative Serving there`,
      );
    }
    if (code >= 500 || code === 429) return new SlipwayError('SLW_TARGET_UNAVAILABLE', `${what}: the cluster at ${server} answered ${code} (${message})`);
    return new SlipwayError('SLW_TARGET_REJECTED', `${what}: the cluster at ${server} rejected it (${code}: ${message})`);
  }
  const message = err instanceof Error ? err.message : String(err);
  // Discovery of an API group the server lacks surfaces as a plain Error from the client.
  if (/serving\.knative\.dev/.test(message) && /not|unable|find/i.test(message)) {
    return new SlipwayError(
      'SLW_TARGET_REJECTED',
      `${what}: the cluster at ${server} does not serve serving.knative.dev/v1; install Knative Serving there (${message})`,
    );
  }
  return new SlipwayError('SLW_TARGET_UNAVAILABLE', `${what}: the cluster at ${server} is unreachable (${message})`);
}

const GROUP = 'serving.knative.dev';
const VERSION = 'v1';

/**
 * Kubernetes calls on one namespace. Through `CustomObjectsApi`, which passes bodies through as they are:
 * `KubernetesObjectApi` would serialize a Knative `Service` with the model of core v1's Service (same
 * version and kind) and drop its template and traffic.
 */
export class KnativeApi {
  private readonly objects: CustomObjectsApi;
  private readonly core: CoreV1Api;
  readonly server: string;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.objects = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.server = kc.getCurrentCluster()?.server ?? '?';
  }

  private where(plural: 'services' | 'revisions', name: string) {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural, name };
  }

  /** The Service, or undefined when there is none. */
  async readService(name: string): Promise<LiveService | undefined> {
    try {
      return (await this.objects.getNamespacedCustomObject(this.where('services', name))) as LiveService;
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw kubeError(err, `reading Service ${this.namespace}/${name}`, this.server);
    }
  }

  /**
   * Server-side apply as field manager `slipway`, forcing ownership of the fields it states (Slipway is the
   * only writer of what it sends). `resourceVersion` in the object makes it a compare-and-set: 409 if the
   * Service changed since it was read.
   */
  async applyService(service: KnativeService): Promise<LiveService> {
    try {
      return (await this.objects.patchNamespacedCustomObject(
        { ...this.where('services', service.metadata.name), body: service, fieldManager: FIELD_MANAGER, force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      )) as LiveService;
    } catch (err) {
      if (isApiStatus(err, 409)) throw err;
      throw kubeError(err, `applying Service ${this.namespace}/${service.metadata.name}`, this.server);
    }
  }

  /**
   * Creates an immutable Secret (a revision's secret variables). One that exists already is a retry of the
   * same revision (revision names are never reused), so it is kept. Values never appear in errors.
   */
  async createSecret(name: string, data: Record<string, string>, labels: Record<string, string>): Promise<void> {
    try {
      await this.core.createNamespacedSecret({
        namespace: this.namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace: this.namespace, labels },
          type: 'Opaque',
          immutable: true,
          data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
        },
      });
    } catch (err) {
      if (isApiStatus(err, 409)) return;
      throw kubeError(err, `creating Secret ${this.namespace}/${name}`, this.server);
    }
  }

  /** Deletes a Secret; one that is already gone is fine. */
  async deleteSecret(name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace: this.namespace });
    } catch (err) {
      if (isApiStatus(err, 404)) return;
      throw kubeError(err, `deleting Secret ${this.namespace}/${name}`, this.server);
    }
  }

  /**
   * Creates or updates the `kubernetes.io/dockerconfigjson` Secret `name` (server-side apply, field manager
   * `slipway`). The content never appears in an error: kubeError reports status and message only.
   */
  async applyPullSecret(name: string, dockerConfigJson: string): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'slipway' } },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(dockerConfigJson).toString('base64') },
    };
    try {
      await this.core.patchNamespacedSecret(
        { name, namespace: this.namespace, body, fieldManager: FIELD_MANAGER, force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    } catch (err) {
      throw kubeError(err, `applying the image pull Secret ${this.namespace}/${name}`, this.server);
    }
  }

  /** Deletes a Revision; one that is already gone is fine. */
  async deleteRevision(name: string): Promise<void> {
    try {
      await this.objects.deleteNamespacedCustomObject(this.where('revisions', name));
    } catch (err) {
      if (isMissingObject(err)) return;
      throw kubeError(err, `deleting Revision ${this.namespace}/${name}`, this.server);
    }
  }
}
