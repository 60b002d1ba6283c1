import type { TargetConfig } from '../config/index.js';
import type { Digest } from '../core/types.js';
import type { Logger } from '../log/index.js';
import type { RegistryCredentials } from '../registry/index.js';

/**
 * Serving targets. Knative Serving's semantics are the contract for every target
 * (Knative's API specification 1.0): immutable revisions named
 * `<app>-<n>`, a route whose `traffic` block splits percentages across revisions and gives some of
 * them tags, and URLs `http://<app>.<domain>` and `http://<tag>-<app>.<domain>` (docs/architecture.md).
 * This file declares only what Slipway calls.
 */

/** The kinds the config schema accepts (`targets.<name>.kind`). */
export type TargetKind = TargetConfig['kind'];

/**
 * One entry of a route's traffic block, as Knative's `TrafficTarget`: exactly one of `revision` and
 * `latestRevision`; percents of all entries sum to 100; a tag may carry 0% (it still gets its URL).
 */
export interface TrafficTarget {
  /** A revision, `<app>-<n>`. */
  revision?: string;
  /** Follow the newest ready revision (`@latest` on the command line). */
  latestRevision?: boolean;
  percent: number;
  tag?: string;
}

export type RevisionState = 'created' | 'ready' | 'failed' | 'deleted';

/** CPU and memory limits of one container. */
export interface Resources {
  /** Bytes. */
  memory?: number;
  /** Cores, e.g. 0.5. */
  cpu?: number;
}

/** What a revision runs besides its image: immutable, like a Knative revision template. */
export interface RevisionSpec {
  env: Record<string, string>;
  /**
   * Secret variables: name → the value sealed with AES-256-GCM (src/secrets). The target opens them only
   * where the container gets them (the local target's container environment, the knative target's
   * Kubernetes Secret); they are never in labels, logs or the Knative Service.
   */
  secrets?: Record<string, string>;
  /**
   * The port the app listens on (Knative `containerPort`). A target may choose it instead (the local
   * target gives each container its own loopback port); either way the app reads it from `PORT`.
   */
  port?: number;
  resources: Resources;
  annotations: Record<string, string>;
}

/** The build a revision comes from; promotion order is build creation order (see promote.ts). */
export interface BuildOrigin {
  id: string;
  commit: string;
  /** ISO-8601 creation time of the build row. */
  createdAt: string;
}

export interface Revision {
  /** `<app>-<n>`. */
  name: string;
  app: string;
  target: string;
  n: number;
  /** `registry/repo@sha256:…`. */
  image: string;
  digest: Digest;
  build: BuildOrigin | undefined;
  state: RevisionState;
  /** Why it failed, when it did. */
  message: string | undefined;
  createdAt: string;
  /** When a promotion first moved traffic to it. */
  promotedAt: string | undefined;
  spec: RevisionSpec;
}

/** A traffic entry with `latestRevision` resolved to the revision it names now. */
export interface ResolvedTraffic extends TrafficTarget {
  /** The revision requests go to (for `latestRevision`, the newest ready one; undefined if none is). */
  revisionName: string | undefined;
  /** `http://<tag>-<app>.<domain>` for tagged entries. */
  url?: string;
}

export interface AppStatus {
  app: string;
  target: string;
  /** `http://<app>.<domain>`. */
  url: string;
  /** The traffic block as set (empty when the app has no route yet). */
  traffic: ResolvedTraffic[];
  /** Bumped by every traffic change: pass it back to `setTraffic` to compare-and-set. */
  generation: number;
  /** Every revision that is not deleted, newest first, with its share of traffic and tags. */
  revisions: (Revision & { percent: number; tags: string[] })[];
}

export interface DeployOptions {
  /** `registry/repo@sha256:…`: always by digest (docs/architecture.md: what is promoted is addressed by digest). */
  image: string;
  env?: Record<string, string>;
  /** Sealed secret variables (RevisionSpec.secrets). */
  secrets?: Record<string, string>;
  port?: number;
  resources?: Resources;
  annotations?: Record<string, string>;
  build?: BuildOrigin;
}

export interface SetTrafficOptions {
  /** Write only if the route's generation is still this (else SLW_TRAFFIC_CONFLICT). */
  expectedGeneration?: number;
  /** Accept an empty traffic block (only when the last preview of an app without main traffic goes). */
  allowEmpty?: boolean;
}

export interface PromoteRequest {
  /** `registry/repo@sha256:…`. */
  image: string;
  commit: string;
  buildId: string;
  /** ISO-8601 creation time of the build: what "older" means. */
  buildCreatedAt: string;
  /** Preview tag (`pr-12`): the revision gets the tag at 0% and the app's traffic stays as it is. */
  tag?: string;
  env?: Record<string, string>;
  /** Sealed secret variables (RevisionSpec.secrets). */
  secrets?: Record<string, string>;
  port?: number;
  resources?: Resources;
  annotations?: Record<string, string>;
}

export interface PromoteResult {
  /** The build's revision; undefined when nothing was deployed (an older build, see `reason`). */
  revision: string | undefined;
  /** The app URL. */
  url: string;
  /** The tag URL, for tagged promotions. */
  tagUrl?: string;
  /** True when, after this call, the build's revision is what the app (or the tag) serves. */
  moved: boolean;
  /** Why traffic did not move, or why nothing had to change. */
  reason?: string;
}

/** The running data plane of a target (the local router), as `serve()` returns it. */
export interface ServingHandle {
  /** `http://host:port` it listens on. */
  address: string;
  close(): Promise<void>;
}

/** What Slipway calls on a serving target. */
export interface ServingTarget {
  readonly name: string;
  readonly kind: TargetKind;
  /** Creates revision `<app>-<n>` (n monotonic per app, never reused) and waits until it is ready. */
  deploy(app: string, options: DeployOptions): Promise<Revision>;
  setTraffic(app: string, traffic: TrafficTarget[], options?: SetTrafficOptions): Promise<AppStatus>;
  removeTag(app: string, tag: string): Promise<AppStatus>;
  listRevisions(app: string): Promise<Revision[]>;
  /** Stops and forgets a revision that takes no traffic and carries no tag; its name stays used. */
  deleteRevision(app: string, name: string): Promise<void>;
  status(app: string): Promise<AppStatus>;
  /** Idempotent and monotonic: an older build never takes traffic (or a tag) from a newer one. */
  promote(app: string, request: PromoteRequest): Promise<PromoteResult>;
  /** Runs the data plane in this process, if the target has one here (the local router). */
  serve?(): Promise<ServingHandle>;
  /** Starts collecting the enforcer's runtime decisions in this process, for a target with no router here (knative). */
  collectRuntimeEvents?(): void;
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// What targets need from the rest of Slipway, passed in (targets may import only core, log and
// registry types; the store implements this through src/app/services/serving-state.ts).

export interface NewRevisionRecord {
  app: string;
  target: string;
  image: string;
  digest: Digest;
  build: BuildOrigin | undefined;
  spec: RevisionSpec;
}

export interface RouteRecord {
  app: string;
  traffic: TrafficTarget[];
  generation: number;
}

export interface ServingState {
  createRevision(r: NewRevisionRecord): Promise<Revision>;
  getRevision(app: string, name: string): Promise<Revision | undefined>;
  /** The live revision (created or ready) a build made for this digest on this target. */
  findRevisionForBuild(app: string, target: string, buildId: string, digest: Digest): Promise<Revision | undefined>;
  updateRevision(app: string, name: string, patch: { state?: RevisionState; message?: string | null; promotedAt?: string }): Promise<void>;
  /** All of an app's revisions on the target, deleted ones included, newest first. */
  listRevisions(app: string, target: string): Promise<Revision[]>;
  /** Every app's revisions on the target that are not deleted. */
  listLiveRevisions(target: string): Promise<Revision[]>;
  getRoute(app: string, target: string): Promise<RouteRecord | undefined>;
  listRoutes(target: string): Promise<RouteRecord[]>;
  /** Compare-and-set on the generation (0: no route yet); false when someone else wrote first. */
  putRoute(app: string, target: string, traffic: TrafficTarget[], expectedGeneration: number): Promise<boolean>;
}

/** How an app's containers are confined (`apps[]` in the config); targets apply what they can. */
export interface AppRuntime {
  /** `isolated`: no network but loopback, reached through the enforcer's socket; `host`: the host's network (opt-in). */
  network: 'isolated' | 'host';
  /** Linux capabilities added back after all are dropped (`CAP_` prefix left off: `NET_BIND_SERVICE`). */
  capabilities: string[];
  /** The image's filesystem read-only; /tmp is a fresh tmpfs. */
  readOnlyRootFilesystem: boolean;
}

export const DEFAULT_APP_RUNTIME: AppRuntime = { network: 'isolated', capabilities: [], readOnlyRootFilesystem: false };

/** Where a stderr line of a revision's container came from. */
export interface ContainerLineSource {
  app: string;
  target: string;
  revision: string;
  /** Engine container id (knative: the pod's name). */
  container: string;
  /** The Engine's (knative: the kubelet's) timestamp of the line (ISO), which the app cannot choose. */
  at: string;
}

/**
 * Where a target hands its containers' stderr lines; the sink picks out the enforcer's decision lines
 * (src/injection/decision-line.ts: targets do not parse them) for the store, metrics and forge feedback.
 */
export interface RuntimeEventSink {
  record(source: ContainerLineSource, line: string): void;
  /** The Engine time of the last line stored for a container (following resumes after it). */
  lastSeen(container: string): Promise<string | undefined>;
}

export interface TargetDeps {
  state: ServingState;
  logger: Logger;
  /** Extra labels on every container (tests: `dev.slipway.test=<id>`); also scope which containers are adopted. */
  labels?: Record<string, string>;
  /** Per app, by name; apps not listed get DEFAULT_APP_RUNTIME. */
  apps?: Record<string, AppRuntime>;
  /** Slipway's data directory (config `dataDir`): targets keep their runtime files below it. Default `.slipway`. */
  dataDir?: string;
  /** Runtime decisions of served revisions; without it they are not collected. */
  events?: RuntimeEventSink;
  /** Opens the sealed secrets of revision specs; without it a revision with secrets fails to start. */
  secrets?: SecretOpener;
  /** Credentials for a registry host (the process's RegistryAuth): the local target's pulls, the knative target's pull secret. Default: anonymous. */
  registryCredentials?: (host: string) => Promise<RegistryCredentials | undefined>;
}

/** Opens one sealed secret variable of an app (src/secrets/box.ts implements it; targets may not import it). */
export interface SecretOpener {
  open(app: string, name: string, sealed: string): string;
}
