import type { AppConfig, SlipwayConfig } from '../config/index.js';
import type { ForgeId } from '../forges/registry.js';
import type { Forge } from '../forges/types.js';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import type { PolicySet } from '../policy/index.js';
import type { RegistryAuth } from '../registry/index.js';
import type { ServingTarget } from '../targets/index.js';
import type { SigningMaterial } from './signing-material.js';
import type { SecretSealer } from '../secrets/index.js';
import type { BuildEvents } from '../queue/index.js';
import type { Build, LogLevel, Store } from '../store/index.js';
import type { BuildState, ReachedBuildState } from '../core/types.js';
import type { OutputOf, StageOutputs } from '../core/stage-outputs.js';

/** What the pipeline needs from the process that runs it. */
export interface PipelineDeps {
  config: SlipwayConfig;
  store: Store;
  events: BuildEvents;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** Compiled policies (loaded once at start); none when absent. */
  policies?: PolicySet | undefined;
  /** The key the sign stage uses and the keys the promote gate trusts (loaded once at start). */
  signing?: SigningMaterial | undefined;
  /** Serving targets by name: where the promote stage creates revisions. */
  targets?: ReadonlyMap<string, ServingTarget> | undefined;
  /** Relative config paths (workspace) resolve against this. Default: process.cwd(). */
  cwd?: string;
  /** The worker's environment: where `apps[].buildSecrets` values are read. Default: none. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Seals `apps[].secrets` into revision specs; without it an app with secrets cannot be promoted. */
  secrets?: SecretSealer | undefined;
  /** The forges, for the credentials private sources are fetched with (the same instances feedback uses). */
  forges?: ReadonlyMap<ForgeId, Forge> | undefined;
  /** Registry credentials (slipway.yaml `registries`, Docker's config.json), one resolver per process. Default: one per build from config and env. */
  registryAuth?: RegistryAuth | undefined;
  /** Told of every state change, to report it to the forge; its failures never fail a build. */
  feedback?: { notify(buildId: string): Promise<void> } | undefined;
}

/** What one stage sees of its build. */
export interface StageContext {
  build: Build;
  app: AppConfig;
  config: SlipwayConfig;
  store: Store;
  policies: PolicySet;
  signing: SigningMaterial | undefined;
  targets: ReadonlyMap<string, ServingTarget> | undefined;
  /** Aborted when the build is canceled (superseded, `/cancel`) or the worker shuts down. */
  signal: AbortSignal;
  /** Per-build directory, removed when the pipeline ends. */
  workspace: string;
  /** Relative config paths (dataDir) resolve against this (PipelineDeps.cwd). Default: process.cwd(). */
  cwd?: string;
  /** The forges (PipelineDeps.forges): fetch asks them for source credentials. */
  forges?: ReadonlyMap<ForgeId, Forge> | undefined;
  /** The worker's environment (PipelineDeps.env), for build secrets. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** PipelineDeps.secrets. */
  secrets?: SecretSealer | undefined;
  /** Where registry credentials come from (PipelineDeps.registryAuth). */
  registryAuth?: RegistryAuth | undefined;
  /** Outputs of the stages that completed before this one, by stage name (core/stage-outputs.ts). */
  outputs: Readonly<Partial<StageOutputs>>;
  /** A line in the build's log (stored, streamed live, shown in the CLI and forge). */
  log(line: string, level?: LogLevel): Promise<void>;
  logger: Logger;
}

/**
 * A pipeline stage. Stages are idempotent: a stage whose checkpoint is `done` and still `valid` is
 * skipped when a build resumes after a crash; otherwise it runs again from scratch.
 */
export interface Stage<Name extends string = string> {
  /** A name of `StageOutputs` types what the stage returns and what later stages read as `outputs[name]`. */
  name: Name;
  /** State the build shows while the stage runs. */
  running: BuildState;
  /**
   * State the build ends in when this is the last stage that ran and reached one; a stage that only
   * checks or prepares (gates, fetch, inject) reaches none.
   */
  reached?: ReachedBuildState;
  run(ctx: StageContext): Promise<OutputOf<Name>>;
  /**
   * A reason not to run the stage for this build (e.g. a fork's preview before a maintainer approved it);
   * undefined runs it. A skipped stage reaches nothing: the build ends in what the stages before reached.
   */
  skip?(ctx: StageContext): Promise<string | undefined>;
  /** Whether a stored checkpoint still holds (e.g. the workspace it wrote is still there). Default: yes. */
  valid?(ctx: StageContext, output: OutputOf<Name>): Promise<boolean>;
}
