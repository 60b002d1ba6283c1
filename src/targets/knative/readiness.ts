import type { Condition, ServiceStatus } from './kube.js';

/**
 * Reading a Knative Service's status (knative-api-specification-1.0.md, "Error Signalling" and
 * "ServiceStatus"): a status answers for a spec only once `observedGeneration` has reached the
 * generation Slipway applied; `Ready`, `ConfigurationsReady` and `RoutesReady` are then True, False
 * (terminal, with a reason and message) or Unknown (still reconciling).
 */

export type Verdict = { done: true } | { done: false; failed?: string };

const PENDING: Verdict = { done: false };

const condition = (status: ServiceStatus | undefined, type: string): Condition | undefined => status?.conditions?.find((c) => c.type === type);

/** `Type=Status (Reason): message` for each condition, for errors that say where reconciling stopped. */
export function describeConditions(status: ServiceStatus | undefined): string {
  const conditions = status?.conditions ?? [];
  if (!conditions.length) return 'the Service has no status conditions yet (is the Knative Serving controller running?)';
  return conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`).join('; ');
}

const observed = (status: ServiceStatus | undefined, generation: number): boolean => (status?.observedGeneration ?? 0) >= generation;

const falseOf = (status: ServiceStatus | undefined, ...types: string[]): Condition | undefined =>
  types.map((t) => condition(status, t)).find((c) => c?.status === 'False');

const failure = (c: Condition): string => `${c.type}=False${c.reason ? ` (${c.reason})` : ''}: ${c.message ?? 'no message'}`;

/** The template's revision `name` is ready (or failed) as of `generation`. */
export function revisionVerdict(status: ServiceStatus | undefined, generation: number, name: string): Verdict {
  if (!observed(status, generation)) return PENDING;
  if (status?.latestReadyRevisionName === name) return { done: true };
  if (status?.latestCreatedRevisionName !== undefined && status.latestCreatedRevisionName !== name) {
    return { done: false, failed: `the Service's template moved on to ${status.latestCreatedRevisionName} before ${name} became ready` };
  }
  const bad = status?.latestCreatedRevisionName === name ? falseOf(status, 'ConfigurationsReady', 'Ready') : undefined;
  return bad ? { done: false, failed: failure(bad) } : PENDING;
}

/** The route serves the traffic block applied at `generation`. */
export function routeVerdict(status: ServiceStatus | undefined, generation: number): Verdict {
  if (!observed(status, generation)) return PENDING;
  const routes = condition(status, 'RoutesReady') ?? condition(status, 'Ready');
  if (routes?.status === 'True') return { done: true };
  if (routes?.status === 'False') return { done: false, failed: failure(routes) };
  return PENDING;
}
