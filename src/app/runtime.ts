import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { redactConfig, type SlipwayConfig } from '../config/index.js';
import { hostPort } from '../core/host-port.js';
import type { ForgeId } from '../forges/registry.js';
import { configuredForge, forgeIds } from '../forges/registry.js';
import type { Forge } from '../forges/types.js';
import type { Logger } from '../log/index.js';
import { createMetrics, type Metrics } from '../metrics/index.js';
import { BuildEvents, BuildQueue, connectRedis, FeedbackQueue, type RedisEndpoint } from '../queue/index.js';
import { createFeedbackNotifier, type FeedbackNotifier } from '../feedback/index.js';
import { loadSigningMaterial } from '../pipeline/signing-material.js';
import { loadPolicies } from '../policy/index.js';
import { RegistryAuth } from '../registry/index.js';
import { buildServer } from '../server/index.js';
import { ensurePrivateDir } from '../server/auth/local-token.js';
import { openStore, type Store } from '../store/index.js';
import type { ServingTarget } from '../targets/index.js';
import { closeTargets, openTargets, startRouters } from './services/serving.js';
import { RuntimeEventRecorder } from './services/runtime-events.js';
import { startPreviewReconciler, type PreviewReconciler } from './services/preview-reconciler.js';
import { openSecretBox } from './services/secret-key.js';
import { startBuildWorker, type BuildWorker } from '../../workers/build-worker.js';
import { startFeedbackWorker } from '../../workers/feedback-worker.js';

export interface RuntimeOptions {
  config: SlipwayConfig;
  logger: Logger;
  /** Which parts run in this process: `slipway up` runs both. */
  server: boolean;
  worker: boolean;
  /** Also run the serving targets' routers (`slipway up`; `slipway router` runs them alone). */
  router?: boolean;
  cwd?: string;
  /** The process environment (the signing key's password lives there). Default: none. */
  env?: Record<string, string | undefined>;
  /** Listen on this port instead of server.listen's (tests pass 0). */
  listenPort?: number;
}

export interface Runtime {
  config: SlipwayConfig;
  store: Store;
  queue: BuildQueue;
  events: BuildEvents;
  metrics: Metrics;
  /** The queue's Redis connection (also what /readyz pings). */
  redis: Redis;
  server: FastifyInstance | undefined;
  worker: BuildWorker | undefined;
  /** Forge feedback jobs: statuses, comments, deployments, comment commands. */
  feedback: FeedbackQueue;
  /** Serving targets by name: the promote stage and the API use them. */
  targets: Map<string, ServingTarget>;
  /** The preview sweep, each minute, where the server runs. */
  previews: PreviewReconciler | undefined;
  /** http://host:port the server listens on, when it runs. */
  address: string | undefined;
  close(): Promise<void>;
}

/** Every registered forge, made from its own config section (src/forges/registry.ts). */
function forgesFrom(config: SlipwayConfig, logger: Logger): Map<ForgeId, Forge> {
  const common = { timeoutMs: config.feedback.timeout, logger };
  return new Map(forgeIds().map((id) => [id, configuredForge(id, config[id], common)]));
}

/**
 * Composes a Slipway process from its config: store (migrated), queue, live events, and the server
 * and/or the build worker. Everything is made here and passed down; nothing is a module global.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = options;
  const prefix = config.redisPrefix;
  logger.info({ config: redactConfig(config) }, 'effective configuration');

  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch((err: unknown) => logger.warn({ err }, 'error while shutting down'));
  };
  try {
    // Uploads, push repositories, the local token and caches live here: the owner's alone (0700).
    ensurePrivateDir(resolve(options.cwd ?? process.cwd(), config.dataDir));
    // Policies compile before anything starts: a bad policy file stops start-up, never a build later.
    // The embedded default directory may be absent (no policies); a configured one must exist.
    const policies = loadPolicies(resolve(options.cwd ?? process.cwd(), config.policies), { required: config.policies !== 'policies/' });
    logger.info({ policies: policies.policies.map((p) => `${p.name} (${p.gate}, ${p.mode})`) }, `${policies.policies.length} policies loaded`);
    const store = await openStore({ url: config.database, ...(options.cwd ? { cwd: options.cwd } : {}) });
    closers.push(() => store.close());
    const metrics = createMetrics({ defaultMetrics: true });
    // The routers' runtime decisions: stored, counted, and reported on the builds' pull requests once
    // the feedback queue exists (below; the routers start before Redis is connected).
    const late: { notifier?: FeedbackNotifier } = {};
    const recorder = new RuntimeEventRecorder({ store, logger, metrics, notify: async (buildId) => late.notifier?.notify(buildId) });
    closers.push(() => recorder.close());
    // App secrets: sealed by the server and workers, opened by the targets where containers get them.
    const secrets = openSecretBox(config, options.env ?? {}, options.cwd ?? process.cwd(), logger);
    // One credential resolver per process: a credential helper runs once per registry host, not per build.
    const registryAuth = new RegistryAuth({ registries: config.registries, env: options.env ?? {} });
    const targets = openTargets(config, store, logger, recorder, registryAuth, secrets);
    closers.push(() => closeTargets(targets));
    if (options.router) await startRouters(targets, logger);
    const redisEndpoint: RedisEndpoint = {
      url: config.redis,
      ...(config.redisTls.ca ? { ca: resolve(options.cwd ?? process.cwd(), config.redisTls.ca) } : {}),
    };
    const redis = await connectRedis(redisEndpoint, 'queue');
    closers.push(() => redis.quit());
    const subscriber = await connectRedis(redisEndpoint, 'events');
    closers.push(() => subscriber.quit());
    // After start-up a lost connection is ioredis's to restore; say so in the log instead of as an unhandled event.
    for (const client of [redis, subscriber]) client.on('error', (err) => logger.warn({ err }, 'Redis connection error; reconnecting'));
    const queue = new BuildQueue(redis, { prefix, attempts: config.builds.attempts, backoffMs: config.builds.backoff });
    closers.push(() => queue.close());
    const events = new BuildEvents(redis, subscriber, prefix);
    const forges = forgesFrom(config, logger);
    const reporting = new Set([...forges].filter(([, f]) => f.feedback !== undefined).map(([id]) => id));
    const feedback = new FeedbackQueue(redis, { prefix, attempts: config.feedback.attempts, backoffMs: config.feedback.backoff, forges: reporting });
    closers.push(() => feedback.close());
    const notifier = createFeedbackNotifier(store, feedback);
    late.notifier = notifier;

    let worker: BuildWorker | undefined;
    if (options.worker) {
      // The signing key loads before any build runs: a wrong password stops start-up, not a build.
      const signing = await loadSigningMaterial(config, options.env ?? {}, options.cwd ?? process.cwd(), logger);
      worker = await startBuildWorker({
        deps: {
          config,
          store,
          events,
          logger,
          metrics,
          policies,
          signing,
          targets,
          feedback: notifier,
          secrets,
          forges,
          registryAuth,
          env: options.env ?? {},
          ...(options.cwd ? { cwd: options.cwd } : {}),
        },
        queue,
        redis: redisEndpoint,
        prefix,
      });
      closers.push(() => worker!.close());
      const feedbackWorker = await startFeedbackWorker({
        deps: { config, store, forges, builds: queue, feedback, logger, serving: targets },
        redis: redisEndpoint,
        prefix,
      });
      closers.push(() => feedbackWorker.close());
    }

    let server: FastifyInstance | undefined;
    let address: string | undefined;
    let reconciler: PreviewReconciler | undefined;
    if (options.server) {
      // The server receives close events; the reconciler backs them up (missed events, failed removals, ttl).
      const previews = startPreviewReconciler({ config, targets, forges, logger });
      closers.push(async () => previews.stop());
      reconciler = previews;
      server = await buildServer({
        config,
        store,
        queue,
        events,
        forges,
        logger,
        metrics,
        redis,
        feedback,
        targets,
        secrets,
        ...(options.cwd ? { cwd: options.cwd } : {}),
      });
      closers.push(() => server!.close());
      const { host, port } = hostPort(config.server.listen);
      address = await server.listen({ host, port: options.listenPort ?? port });
      logger.info({ address }, 'server listening');
    }
    return { config, store, queue, events, metrics, redis, server, worker, feedback, targets, previews: reconciler, address, close };
  } catch (err) {
    await close();
    throw err;
  }
}
