/**
 * What the HTTP API needs from the serving targets. Declared here because the server may not
 * import src/targets (docs/architecture.md "Modules"); src/app/runtime.ts passes the targets' registry in, and
 * TypeScript checks that they fit.
 */

/** One entry of a traffic block (Knative's TrafficTarget). */
export interface TrafficEntry {
  revision?: string;
  /** The revision the entry resolves to now (for `latestRevision`, the newest ready one). */
  revisionName?: string | undefined;
  latestRevision?: boolean;
  percent: number;
  tag?: string;
}

/** A target's view of one app: URL, traffic block, revisions; sent to clients as it is. */
export interface ServedApp {
  app: string;
  target: string;
  url: string;
  generation: number;
  traffic: readonly TrafficEntry[];
  revisions: readonly { name: string; image: string; digest: string; spec: { secrets?: Record<string, string> } }[];
}

export interface ServedTarget {
  readonly name: string;
  readonly kind: string;
  status(app: string): Promise<ServedApp>;
  setTraffic(app: string, traffic: TrafficEntry[], options?: { expectedGeneration?: number }): Promise<ServedApp>;
  /** Takes a tag (a preview) off the app's traffic; nothing happens when it is not there. */
  removeTag(app: string, tag: string): Promise<unknown>;
}

/** Targets by name. */
export type ServingControl = ReadonlyMap<string, ServedTarget>;
