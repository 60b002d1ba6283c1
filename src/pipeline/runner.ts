import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SlipwayError, toSlipwayError } from '../core/errors.js';
import { parseStageOutput, type StageOutputs } from '../core/stage-outputs.js';
import { ACTIVE_BUILD_STATES, isTerminalState, type BuildState } from '../core/types.js';
import { buildLogger, SecretMasker } from '../log/index.js';
import { appendLog, beginStage, finishStage, getBuild, listStages, transitionBuild, updateBuild, type Build, type LogLevel } from '../store/index.js';
import type { PipelineDeps, Stage, StageContext } from './context.js';
import { RegistryAuth } from '../registry/index.js';
import { knownSecrets } from './known-secrets.js';
import { DEFAULT_STAGES } from './stages/index.js';
import { BuildDeadline } from './deadline.js';

export interface RunBuildOptions {
  signal: AbortSignal;
  /** 1-based try number, and how many tries the queue allows: the last try fails the build for good. */
  attempt: number;
  maxAttempts: number;
  stages?: readonly Stage[];
}

export type RunBuildResult =
  | { outcome: 'finished'; state: BuildState }
  /** A retryable error on a try that is not the last: the queue should try again later. */
  | { outcome: 'retry'; error: SlipwayError }
  /** Failed for good; the build row says why. */
  | { outcome: 'failed'; error: SlipwayError };

const ACTIVE = [...ACTIVE_BUILD_STATES] as BuildState[];

/**
 * Runs (or resumes) one build through its stages. Each stage: compare-and-set the state, checkpoint
 * row, run, checkpoint done. Stages done before (a crashed worker's progress) are skipped when their
 * checkpoint still holds. The end state is set by compare-and-set too, so a build finishes exactly
 * once however many workers raced over it.
 */
export async function runBuild(buildId: string, deps: PipelineDeps, options: RunBuildOptions): Promise<RunBuildResult> {
  const stages = options.stages ?? DEFAULT_STAGES;
  const { store } = deps;
  const initial = await getBuild(store.db, buildId);
  if (!initial) return { outcome: 'failed', error: new SlipwayError('SLW_NOT_FOUND', `build ${buildId} does not exist`) };
  if (isTerminalState(initial.state as BuildState)) return { outcome: 'finished', state: initial.state as BuildState };

  const logger = buildLogger(deps.logger, { build: buildId, app: initial.app, ...(initial.deliveryId ? { delivery: initial.deliveryId } : {}) });
  const workspace = resolve(deps.cwd ?? process.cwd(), deps.config.builds.workspace, buildId);
  let currentStage: string | null = null;
  // The checkout is needed only while stages run; no source stays on disk once a build has ended, and
  // it is gone before the end state is visible.
  const removeWorkspace = () => rm(workspace, { recursive: true, force: true }).catch(() => undefined);

  // Every line users can read (stored, streamed, forge summaries) passes here: a step that prints a
  // secret it was given shows *** instead (GitHub Actions' masking). Lines arrive whole (BuildKit's
  // output is assembled per line before it gets here), so a value is never split across two.
  const masker = new SecretMasker(knownSecrets(deps.config, deps.env ?? {}));
  const log = async (text: string, level: LogLevel = 'info') => {
    const line = masker.mask(text);
    const row = await appendLog(store.db, { buildId, stage: currentStage, level, line });
    await deps.events.publish({ type: 'log', buildId, id: Number(row.id), ts: row.ts, stage: row.stage, level: row.level, line: row.line });
  };
  const publishState = async (state: BuildState) => {
    await deps.events.publish({ type: 'state', buildId, state, terminal: isTerminalState(state) });
    // Forge feedback is only queued here; even a failure to queue it never fails the build.
    try {
      await deps.feedback?.notify(buildId);
    } catch (err) {
      logger.warn({ err }, 'could not queue forge feedback');
    }
  };

  const app = deps.config.apps.find((a) => a.name === initial.app);
  if (!app) {
    const error = new SlipwayError('SLW_BUILD_UNKNOWN_APP', `app "${initial.app}" is no longer configured; add it under apps in the config to build it`);
    await fail(initial, error);
    return { outcome: 'failed', error };
  }

  await updateBuild(store.db, buildId, { attempts: options.attempt, ...(initial.startedAt ? {} : { startedAt: new Date().toISOString() }) });
  if (options.attempt > 1) await log(`resuming (try ${options.attempt} of ${options.maxAttempts})`);

  const policies = deps.policies ?? { policies: [], files: [], costLimit: 0 };
  const registryAuth = deps.registryAuth ?? new RegistryAuth({ registries: deps.config.registries, env: deps.env });
  const checkpoints = new Map((await listStages(store.db, buildId)).map((s) => [s.stage, s]));
  // By stage name: the stages of StageOutputs with their types, any other (a test's stage) as it returned.
  const outputs: Partial<StageOutputs> & { [stage: string]: unknown } = {};
  let endState: BuildState = 'ready';
  let build: Build = initial;
  // builds.timeout counts from when the build first started (a resumed build does not start over);
  // builds.stageTimeout from when each stage starts. Either aborts the stage's work through `signal`.
  const startedAt = initial.startedAt ? Date.parse(initial.startedAt) : Date.now();
  const deadline = new BuildDeadline(options.signal, deps.config.builds, startedAt);
  const signal = deadline.signal;

  try {
    for (const stage of stages) {
      if (deadline.expired) throw deadline.expired;
      if (options.signal.aborted) return await canceled();
      const ctx: StageContext = {
        build,
        app,
        config: deps.config,
        store,
        policies,
        signing: deps.signing,
        targets: deps.targets,
        registryAuth,
        signal,
        workspace,
        ...(deps.cwd ? { cwd: deps.cwd } : {}),
        ...(deps.env ? { env: deps.env } : {}),
        ...(deps.secrets ? { secrets: deps.secrets } : {}),
        ...(deps.forges ? { forges: deps.forges } : {}),
        outputs,
        logger,
        log,
      };
      const skipped = await stage.skip?.(ctx);
      if (skipped !== undefined) {
        await log(`${stage.name} skipped: ${skipped}`, 'warn');
        continue;
      }
      const checkpoint = checkpoints.get(stage.name);
      if (checkpoint?.state === 'done') {
        const output = parseStageOutput(stage.name, checkpoint.output);
        if (output !== undefined && (!stage.valid || (await stage.valid(ctx, output)))) {
          outputs[stage.name] = output;
          if (stage.reached) endState = stage.reached;
          await log(`${stage.name}: done on an earlier try, skipped`);
          continue;
        }
      }

      const moved = await transitionBuild(store.db, buildId, ACTIVE, stage.running, { stage: stage.name });
      if (!moved) return await canceled();
      build = moved;
      await publishState(stage.running);
      currentStage = stage.name;
      await beginStage(store.db, buildId, stage.name);
      await log(`▶ ${stage.name}`);
      const started = performance.now();
      try {
        outputs[stage.name] = await deadline.run(stage.name, () => stage.run({ ...ctx, build }));
      } catch (err) {
        const seconds = (performance.now() - started) / 1000;
        const outcome = options.signal.aborted && !deadline.expired ? 'canceled' : 'failed';
        await finishStage(store.db, buildId, stage.name, outcome, seconds * 1000);
        deps.metrics?.stageDuration.observe({ stage: stage.name, outcome }, seconds);
        throw err;
      }
      const seconds = (performance.now() - started) / 1000;
      await finishStage(store.db, buildId, stage.name, 'done', seconds * 1000, outputs[stage.name] ?? null);
      deps.metrics?.stageDuration.observe({ stage: stage.name, outcome: 'done' }, seconds);
      if (stage.reached) endState = stage.reached;
      await log(`✓ ${stage.name} (${seconds.toFixed(2)}s)`);
      currentStage = null;
    }

    // The end state is what the last stage that ran reached (gates only check, and skipped stages ran not).
    await removeWorkspace();
    const done = await transitionBuild(store.db, buildId, ACTIVE, endState, { finishedAt: new Date().toISOString() });
    if (!done) return await canceled();
    await log(`build ${endState}`);
    await publishState(endState);
    logger.info({ state: endState }, 'build finished');
    return { outcome: 'finished', state: endState };
  } catch (err) {
    if (deadline.expired) {
      await fail(build, deadline.expired);
      return { outcome: 'failed', error: deadline.expired };
    }
    if (options.signal.aborted) return await canceled();
    const error = masked(toSlipwayError(err));
    if (error.retryable && options.attempt < options.maxAttempts) {
      await log(`${currentStage ?? 'build'} failed: ${error.message}; will try again`, 'warn');
      logger.warn({ err: error, code: error.code }, 'build try failed, will retry');
      return { outcome: 'retry', error };
    }
    await fail(build, error);
    return { outcome: 'failed', error };
  } finally {
    deadline.dispose();
    await removeWorkspace();
  }

  /** The error with known secrets masked: its message becomes the build's errorMessage and the job's failure. */
  function masked(error: SlipwayError): SlipwayError {
    const message = masker.mask(error.message);
    return message === error.message ? error : new SlipwayError(error.code, message, { details: error.details });
  }

  async function fail(row: Build, error: SlipwayError): Promise<void> {
    await removeWorkspace();
    // A policy saying no is not a failure of the build machinery: users see `rejected` (docs/architecture.md).
    const end: BuildState = error.code === 'SLW_POLICY_REJECTED' ? 'rejected' : 'failed';
    const moved = await transitionBuild(store.db, row.id, ACTIVE, end, {
      errorCode: error.code,
      errorMessage: error.message,
      finishedAt: new Date().toISOString(),
    });
    if (!moved) return;
    await log(end === 'rejected' ? `✗ build rejected: ${error.message}` : `✗ ${currentStage ?? 'build'} failed [${error.code}]: ${error.message}`, 'error');
    await publishState(end);
    logger.error({ code: error.code, err: error }, 'build failed');
  }

  async function canceled(): Promise<RunBuildResult> {
    await removeWorkspace();
    const moved = await transitionBuild(store.db, buildId, ACTIVE, 'canceled', {
      errorCode: 'SLW_BUILD_CANCELED',
      errorMessage: 'canceled',
      finishedAt: new Date().toISOString(),
    });
    const row = await getBuild(store.db, buildId);
    const reason = row?.errorMessage ?? 'canceled';
    if (moved || row?.state === 'canceled') {
      await log(`build canceled: ${reason}`, 'warn');
      await publishState('canceled');
    }
    logger.info({ reason }, 'build canceled');
    return { outcome: 'finished', state: (row?.state as BuildState | undefined) ?? 'canceled' };
  }
}
