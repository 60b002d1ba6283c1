import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { configSchema, type SlipwayConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { startRuntime, type Runtime } from '../../src/app/runtime.js';
import type { BuildState } from '../../src/core/types.js';
import { DEFAULT_STAGES } from '../../src/pipeline/index.js';
import { getBuild, type Build } from '../../src/store/index.js';
import { signedGithub } from './webhooks.js';

/**
 * The state a build that passes every stage ends in: the `reached` state of the last stage that
 * reaches one. Tests name this instead of a literal so that adding a stage changes one place.
 */
export const FINAL_STATE: BuildState = [...DEFAULT_STAGES].reverse().find((s) => s.reached !== undefined)!.reached!;

/** The offline base image scripts/lib/services.sh builds from Debian's busybox-static. */
export const BASE_IMAGE = process.env.SLIPWAY_TEST_BASE_IMAGE ?? '127.0.0.1:5000/slipway/busybox:latest';

/**
 * Files of a tiny app that serves HTTP on $PORT as the runtime contract asks (busybox httpd), so a
 * build can go all the way to a ready revision. `user: null` leaves USER out (the image runs as root).
 */
export function servingApp(body = 'hello from slipway\n', options: { user?: string | null; extra?: string } = {}): Record<string, string> {
  const user = options.user === undefined ? '1000' : options.user;
  return {
    Dockerfile: `FROM ${BASE_IMAGE}\nCOPY www /www\n${options.extra ?? ''}${user === null ? '' : `USER ${user}\n`}CMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`,
    'www/index.html': body,
  };
}

export const TEST_REDIS_URL = process.env.SLIPWAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const WEBHOOK_SECRET = "It's a Secret to Everybody";
export const GITLAB_TOKEN = 'gitlab-test-token';
/** A static API token every test runtime accepts (config keeps only its SHA-256, as production does). */
export const API_TOKEN = 'slipway-test-api-token';
export const API_AUTH = { authorization: `Bearer ${API_TOKEN}` };

/** Removes the revision containers a test runtime started (labelled with its installation, the prefix). */
export function removeContainers(prefix: string): void {
  const docker = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
  try {
    const ids = execFileSync(docker, ['ps', '-aq', '--filter', `label=dev.slipway.installation=${prefix}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    if (ids.length) execFileSync(docker, ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // no Docker Engine: nothing was started
  }
}

/** A fresh BullMQ prefix per test (BullMQ's own test style), removed afterwards. */
export const uniquePrefix = (): string => `slipway-test-${randomBytes(5).toString('hex')}`;

export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface TestRuntimeOptions {
  config?: Record<string, unknown>;
  server?: boolean;
  worker?: boolean;
  /** Run the serving targets' routers too (as `slipway up` does). */
  router?: boolean;
  database?: string;
  /** The process environment the runtime sees (build secrets, the key password). Default: none. */
  env?: Record<string, string>;
  /** Where the runtime's log lines go (tests that read what Slipway logged); default: stdout. */
  logDestination?: NodeJS.WritableStream;
  /** Receives every line the runtime logs (JSON), at `logLevel` (default debug), instead of the test log level. */
  logSink?: (line: string) => void;
  logLevel?: string;
}

export interface TestRuntime extends Runtime {
  dir: string;
  prefix: string;
  url: string;
  stop(): Promise<void>;
}

/** Parses a test config through the real schema (so tests use only valid configs), with fast timings. */
export function testConfig(dir: string, prefix: string, overrides: Record<string, unknown> = {}): SlipwayConfig {
  return configSchema.parse({
    redisPrefix: prefix,
    server: { listen: '127.0.0.1:0', publicUrl: 'http://127.0.0.1:8080' },
    redis: TEST_REDIS_URL,
    database: `sqlite:${join(dir, 'slipway.db')}`,
    github: { webhookSecret: WEBHOOK_SECRET },
    gitlab: { webhookToken: GITLAB_TOKEN },
    api: { tokens: [{ name: 'tests', sha256: createHash('sha256').update(API_TOKEN).digest('hex') }] },
    builds: { workspace: join(dir, 'workspaces'), backoff: '200ms', lockDuration: '2s', stalledInterval: '1s', concurrency: 2 },
    log: { level: process.env.SLIPWAY_TEST_LOG ?? 'silent' },
    ...overrides,
  });
}

/** A real Slipway (store, Redis queue, server on a free loopback port, worker) in this process. */
export async function startTestRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-rt-'));
  const prefix = uniquePrefix();
  const config = testConfig(dir, prefix, { ...(options.database ? { database: options.database } : {}), ...options.config });
  const runtime = await startRuntime({
    config,
    logger: options.logSink
      ? createLogger({ level: options.logLevel ?? 'debug', destination: { write: (line: string) => void options.logSink!(line) } })
      : createLogger({ level: config.log.level, ...(options.logDestination ? { destination: options.logDestination } : {}) }),
    server: options.server ?? true,
    worker: options.worker ?? true,
    router: options.router ?? false,
    cwd: dir,
    listenPort: 0,
    ...(options.env ? { env: options.env } : {}),
  });
  return {
    ...runtime,
    dir,
    prefix,
    url: runtime.address ?? '',
    async stop() {
      await runtime.close();
      removeContainers(prefix);
      await deletePrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails with what it last saw. */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Delivers a signed GitHub webhook to the runtime's server; expects 202 and answers its JSON. */
export async function deliverGithub(rt: TestRuntime, event: string, payload: unknown): Promise<{ builds: { id: string }[]; reason?: string }> {
  const req = signedGithub(event, payload, WEBHOOK_SECRET);
  const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
  if (res.statusCode !== 202) throw new Error(`webhook ${event} answered ${res.statusCode}: ${res.body}`);
  return res.json() as { builds: { id: string }[]; reason?: string };
}

/** The build once it has ended (ready, failed, rejected or canceled). */
export function buildEnded(rt: TestRuntime, id: string, timeoutMs = 90_000): Promise<Build> {
  return waitFor(
    async () => {
      const b = await getBuild(rt.store.db, id);
      return b && ['ready', 'failed', 'rejected', 'canceled'].includes(b.state) ? b : undefined;
    },
    `build ${id} to end`,
    timeoutMs,
  );
}
