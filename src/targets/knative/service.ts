import { SlipwayError } from '../../core/errors.js';
import type { Revision, TrafficTarget } from '../types.js';

/**
 * The `serving.knative.dev/v1` Service Slipway applies for an app: a pure function of the revision the
 * template describes and the app's traffic block, so every apply states the whole desired object (server-side
 * apply removes fields its manager stops sending). Field names and rules: knative-api-specification-1.0.md
 * ("Service", "RevisionTemplateSpec", "TrafficTarget") and runtime-contract.md (reserved env names).
 */

export const SERVING_API_VERSION = 'serving.knative.dev/v1';
/** The app's route generation in Slipway's store, so a slower writer never applies an older traffic block. */
export const ROUTE_GENERATION_ANNOTATION = 'slipway.dev/route-generation';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** Knative sets these itself (runtime contract); its webhook rejects a template that sets them. */
const RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
/** Kubernetes' env var name rule (C identifier-ish, as `kubectl` accepts: letters, digits, `_`, `-`, `.`, not starting with a digit). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** Kubernetes' qualified annotation key: optional DNS-subdomain prefix and `/`, then a ≤63-char name. */
const ANNOTATION_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export interface KnativeTrafficTarget {
  revisionName?: string;
  latestRevision: boolean;
  percent: number;
  tag?: string;
}

export interface KnativeService {
  apiVersion: typeof SERVING_API_VERSION;
  kind: 'Service';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; resourceVersion?: string };
  spec: {
    template: {
      metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        imagePullSecrets?: { name: string }[];
        containers: {
          image: string;
          env?: ({ name: string; value: string } | { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } })[];
          ports?: { containerPort: number }[];
          resources?: { limits: Record<string, string> };
        }[];
      };
    };
    traffic: KnativeTrafficTarget[];
  };
}

/** Problems with a revision's spec that Knative would reject, all at once (before a name is used up). */
export function revisionSpecProblems(spec: Pick<Revision['spec'], 'env' | 'secrets' | 'port' | 'annotations' | 'resources'>): string[] {
  const problems: string[] = [];
  for (const name of [...Object.keys(spec.env), ...Object.keys(spec.secrets ?? {})]) {
    if (RESERVED_ENV.has(name)) problems.push(`env ${name} is set by Knative itself (runtime contract); remove it`);
    else if (!ENV_NAME.test(name)) problems.push(`env name "${name}" is not a valid variable name (letters, digits, _ . -; not starting with a digit)`);
  }
  if (spec.port !== undefined && (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)) problems.push(`port ${spec.port} must be 1–65535`);
  for (const key of Object.keys(spec.annotations)) {
    if (!ANNOTATION_KEY.test(key)) problems.push(`annotation key "${key}" is not a Kubernetes qualified name (prefix/name, name ≤ 63 characters)`);
  }
  if (spec.resources.memory !== undefined && !(spec.resources.memory > 0)) problems.push('resources.memory must be a positive number of bytes');
  if (spec.resources.cpu !== undefined && !(spec.resources.cpu > 0)) problems.push('resources.cpu must be a positive number of cores');
  return problems;
}

export function assertRevisionSpec(app: string, spec: Revision['spec']): void {
  const problems = revisionSpecProblems(spec);
  if (problems.length) throw new SlipwayError('SLW_REVISION_INVALID', `revision of app ${app}: ${problems.join('; ')}`);
}

/** Bytes as a Kubernetes quantity: binary suffixes when exact (`512Mi`), plain bytes otherwise. */
export function memoryQuantity(bytes: number): string {
  for (const [suffix, unit] of [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(Math.ceil(bytes));
}

/** Cores as a Kubernetes quantity in millicores (`0.5` → `500m`). */
export const cpuQuantity = (cores: number): string => `${Math.max(1, Math.round(cores * 1000))}m`;

/**
 * Slipway's traffic block as Knative's. Knative's Route must send 100% somewhere, while Slipway lets an app
 * that has only previews (every entry tagged at 0%) serve nothing at its own URL. On Knative such an app's
 * main URL also serves its newest preview (an untagged 100% entry), until the first production promotion;
 * with no traffic at all yet, the template's revision takes it (Knative's own default).
 */
export function knativeTraffic(traffic: readonly TrafficTarget[], templateRevision: string): KnativeTrafficTarget[] {
  const out: KnativeTrafficTarget[] = traffic.map((t) => ({
    ...(t.latestRevision ? { latestRevision: true } : { revisionName: t.revision!, latestRevision: false }),
    percent: t.percent,
    ...(t.tag !== undefined ? { tag: t.tag } : {}),
  }));
  if (out.reduce((sum, t) => sum + t.percent, 0) === 0) {
    const newest = [...traffic].reverse().find((t) => t.revision !== undefined)?.revision ?? templateRevision;
    out.unshift({ revisionName: newest, latestRevision: false, percent: 100 });
  }
  return out;
}

export interface ServiceInput {
  app: string;
  namespace: string;
  /** The revision the template describes (its name becomes the template's name: Knative's "bring your own revision name"). */
  template: Revision;
  traffic: readonly TrafficTarget[];
  routeGeneration: number;
  /** The Secret the revision's pods pull the image with; none: anonymous pulls. */
  pullSecret?: string | undefined;
}

/**
 * The Kubernetes Secret holding a revision's secret variables: one per revision, written before the
 * template that refers to it and never changed after (a Knative revision is immutable, so is what it reads).
 */
export const revisionSecretName = (revision: string): string => `${revision}-secrets`;

export function knativeService({ app, namespace, template, traffic, routeGeneration, pullSecret }: ServiceInput): KnativeService {
  const { spec } = template;
  // Secrets are referenced, never inlined: the Service (and every Revision Knative copies from it) names
  // the Secret and key, so whoever may read Services does not read the values.
  const env = [
    ...Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    ...Object.keys(spec.secrets ?? {}).map((name) => ({ name, valueFrom: { secretKeyRef: { name: revisionSecretName(template.name), key: name } } })),
  ];
  const limits: Record<string, string> = {
    ...(spec.resources.memory !== undefined ? { memory: memoryQuantity(spec.resources.memory) } : {}),
    ...(spec.resources.cpu !== undefined ? { cpu: cpuQuantity(spec.resources.cpu) } : {}),
  };
  return {
    apiVersion: SERVING_API_VERSION,
    kind: 'Service',
    metadata: {
      name: app,
      namespace,
      labels: { [MANAGED_BY_LABEL]: 'slipway' },
      annotations: { [ROUTE_GENERATION_ANNOTATION]: String(routeGeneration) },
    },
    spec: {
      template: {
        metadata: {
          name: template.name,
          ...(Object.keys(spec.annotations).length ? { annotations: { ...spec.annotations } } : {}),
        },
        spec: {
          ...(pullSecret ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
          containers: [
            {
              image: template.image,
              ...(env.length ? { env } : {}),
              ...(spec.port !== undefined ? { ports: [{ containerPort: spec.port }] } : {}),
              ...(Object.keys(limits).length ? { resources: { limits } } : {}),
            },
          ],
        },
      },
      traffic: knativeTraffic(traffic, template.name),
    },
  };
}
