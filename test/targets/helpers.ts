import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { servingState } from '../../src/app/services/serving-state.js';
import { openStore, type Store } from '../../src/store/index.js';
import { LocalTarget, type LocalTargetSettings } from '../../src/targets/index.js';
import { injectEnforcer } from '../../src/injection/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import type { AppRuntime } from '../../src/targets/index.js';
import { BASE_IMAGE, buildAndPush, docker, dockerOk, enforcerArtifacts } from '../enforcer/docker.js';
import { freePort } from '../helpers/ports.js';
import { getWithHost, type HostReply } from '../helpers/http.js';

/**
 * The local target against the real Docker Engine and registry (scripts/lib/services.sh). Every
 * container a suite starts carries `dev.slipway.test=<id>`; `removeTestContainers` removes them.
 */

export const REGISTRY = (process.env.SLIPWAY_TEST_REGISTRY ?? 'http://127.0.0.1:5000').replace(/^https?:\/\//, '');
export const TEST_LABEL = 'dev.slipway.test';
export const testId = (): string => randomBytes(4).toString('hex');

/**
 * A tiny HTTP app: busybox httpd on 127.0.0.1:$PORT (the runtime contract's port) serving `body` at
 * `/`, CGI `/cgi-bin/env` (the contract's variables) and `/cgi-bin/slow?ms` (holds a request open).
 */
export async function buildApp(repo: string, body: string): Promise<string> {
  const tag = `${REGISTRY}/${repo}:${body.replace(/[^a-z0-9]/gi, '') || 'x'}`;
  const cgi = (script: string) => ({ data: `#!/bin/sh\necho 'Content-Type: text/plain'\necho\n${script}\n`, mode: 0o755 });
  await buildAndPush(tag, {
    Dockerfile: `FROM ${BASE_IMAGE}\nCOPY www /www\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`,
    'www/index.html': body,
    'www/cgi-bin/env': cgi('echo "PORT=$PORT K_SERVICE=$K_SERVICE K_CONFIGURATION=$K_CONFIGURATION K_REVISION=$K_REVISION"'),
    'www/cgi-bin/slow': cgi('sleep 1; echo slow'),
  });
  // Isolated revisions (the default) are served through the enforcer's proxy: inject it, as the pipeline does.
  enforcerArtifacts();
  const injected = await injectEnforcer(new RegistryClient({ host: REGISTRY }), tag, `${tag}-slipway`, { labels: { 'dev.slipway.build': 'test' } });
  return injected.ref;
}

/** The same app, not injected: only `network: host` can serve it. */
export async function buildPlainApp(repo: string, body: string): Promise<string> {
  const tag = `${REGISTRY}/${repo}:${body.replace(/[^a-z0-9]/gi, '') || 'x'}`;
  await buildAndPush(tag, {
    Dockerfile: `FROM ${BASE_IMAGE}\nCOPY www /www\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`,
    'www/index.html': body,
  });
  const digests = await dockerOk(['inspect', '--format', '{{json .RepoDigests}}', tag]);
  const ref = (JSON.parse(digests) as string[]).find((d) => d.startsWith(`${REGISTRY}/${repo}@`));
  if (!ref) throw new Error(`no registry digest for ${tag}: ${digests}`);
  return ref;
}

/** Removes every container labelled with this suite's id (afterAll), whatever state it is in. */
export async function removeTestContainers(id: string): Promise<void> {
  const ids = (await dockerOk(['ps', '-aq', '--filter', `label=${TEST_LABEL}=${id}`])).split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
}

export async function countContainers(id: string, status?: string, labels: Record<string, string> = {}): Promise<number> {
  const args = ['ps', '-aq', '--filter', `label=${TEST_LABEL}=${id}`, ...(status ? ['--filter', `status=${status}`] : [])];
  for (const [k, v] of Object.entries(labels)) args.push('--filter', `label=${k}=${v}`);
  return (await dockerOk(args)).split('\n').filter(Boolean).length;
}

export function localSettings(overrides: Partial<LocalTargetSettings> = {}): LocalTargetSettings {
  const parsed = configSchema.parse({ targets: { local: { kind: 'local', ...overrides } } }).targets.local;
  if (parsed?.kind !== 'local') throw new Error('unreachable');
  return parsed;
}

export interface Harness {
  id: string;
  dir: string;
  store: Store;
  target: LocalTarget;
  /** http://127.0.0.1:port of the router, once `serve()` ran. */
  router: string;
  listen: string;
  serve(): Promise<void>;
  /** A second LocalTarget over the same store and labels (a restarted process). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A LocalTarget over a fresh SQLite store, its router on a free loopback port. */
export async function harness(id: string, overrides: Partial<LocalTargetSettings> = {}, apps: Record<string, AppRuntime> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-serving-'));
  const store = await openStore({ url: `sqlite:${join(dir, 'slipway.db')}` });
  const listen = `127.0.0.1:${await freePort()}`;
  const settings = localSettings({ listen, ...overrides });
  const make = () =>
    new LocalTarget('local', settings, {
      state: servingState(store.db),
      logger: createLogger({ level: process.env.SLIPWAY_TEST_LOG ?? 'silent' }),
      labels: { [TEST_LABEL]: id },
      apps,
      dataDir: dir,
    });
  const h: Harness = {
    id,
    dir,
    store,
    target: make(),
    router: `http://${listen}`,
    listen,
    async serve() {
      await h.target.serve!();
    },
    async restart() {
      await h.target.close();
      h.target = make();
      await h.serve();
    },
    async close() {
      await h.target.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export type Reply = HostReply;

/** One request to the router with a Host header (fetch cannot set Host). */
export const get = getWithHost;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
