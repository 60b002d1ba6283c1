import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, envKeys, envName, loadConfig, parseDuration, redactConfig } from '../../src/config/index.js';
import { SlipwayError } from '../../src/core/errors.js';
import { createLogger } from '../../src/log/index.js';
import { startRuntime } from '../../src/app/runtime.js';
import { TEST_REDIS_URL, uniquePrefix, deletePrefix } from '../helpers/runtime.js';

describe('config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-cfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (text: string) => {
    const path = join(dir, 'slipway.yaml');
    writeFileSync(path, text);
    return path;
  };
  const problems = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(SlipwayError);
      expect((err as SlipwayError).code).toBe('SLW_CONFIG_INVALID');
      return (err as SlipwayError).message;
    }
    throw new Error('expected the config to be refused');
  };

  it('runs on embedded defaults with no file and no env', () => {
    const { config, file: used } = loadConfig({ env: {}, cwd: dir });
    expect(used).toBeUndefined();
    expect(config).toMatchObject({
      server: { listen: '127.0.0.1:8080', publicUrl: 'http://127.0.0.1:8080' },
      redis: 'redis://127.0.0.1:6379',
      database: 'sqlite:.slipway/slipway.db',
      buildkit: 'docker:///var/run/docker.sock',
      registry: { url: 'http://127.0.0.1:5000', namespace: 'slipway' },
      targets: { local: { kind: 'local', listen: '127.0.0.1:8081', domain: 'localhost', idleTimeout: 60_000 } },
      apps: [],
    });
  });

  it('reads ./slipway.yaml when present, and env overrides the file', () => {
    file('server: { listen: "127.0.0.1:9000" }\nbuilds: { concurrency: 4, backoff: 1m30s }\n');
    const { config, envOverrides } = loadConfig({ env: { SLIPWAY_SERVER_LISTEN: '127.0.0.1:9100', SLIPWAY_GITHUB_WEBHOOK_SECRET: 's' }, cwd: dir });
    expect(config.server.listen).toBe('127.0.0.1:9100');
    expect(config.builds).toMatchObject({ concurrency: 4, backoff: 90_000 });
    expect(config.github.webhookSecret).toBe('s');
    expect(envOverrides.sort()).toEqual(['SLIPWAY_GITHUB_WEBHOOK_SECRET', 'SLIPWAY_SERVER_LISTEN']);
  });

  it('takes lists and maps from env as JSON', () => {
    const apps = [{ name: 'hello', repo: 'github:octo/hello', branches: { main: 'local' } }];
    const { config } = loadConfig({ env: { SLIPWAY_APPS: JSON.stringify(apps) }, cwd: dir });
    expect(config.apps[0]).toMatchObject({ name: 'hello', dockerfile: 'Dockerfile', context: '.', branches: { main: 'local' } });
  });

  it('reports every problem at once, each with its key path and where it came from', () => {
    file(
      [
        'server: { listen: "nope", publicUrl: "not a url" }',
        'serverr: {}',
        'builds: { concurrency: 0, backoff: "soon" }',
        'apps:',
        '  - { name: Hello, repo: "octo/hello", branches: { main: prod }, extra: 1 }',
      ].join('\n'),
    );
    const message = problems(() => loadConfig({ env: { SLIPWAY_REDIS: 'localhost:6379' }, cwd: dir }));
    for (const expected of [
      'server.listen: write it as host:port',
      'server.publicUrl:',
      '(root): unknown key "serverr"',
      'builds.concurrency:',
      'builds.backoff: "soon" is not a duration',
      'apps.0.name: use lower-case letters',
      'apps.0.repo: write it as github:owner/name or gitlab:group/project',
      'apps.0: unknown key "extra"',
      'redis: write it as redis://host:port (from SLIPWAY_REDIS)',
    ]) {
      expect(message).toContain(expected);
    }
    const count = Number(/has (\d+) problems/.exec(message)?.[1]);
    expect(count).toBeGreaterThanOrEqual(9);
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(count);
  });

  it('names a target an app uses but nobody defined', () => {
    const message = problems(() =>
      loadConfig({ env: { SLIPWAY_APPS: JSON.stringify([{ name: 'a', repo: 'github:o/a', branches: { main: 'prod' } }]) }, cwd: dir }),
    );
    expect(message).toContain('apps.0.branches.main: target "prod" is not defined under targets (defined: local)');
  });

  it.each([
    [
      'an env number that is not one',
      { SLIPWAY_BUILDS_CONCURRENCY: 'lots' },
      'builds.concurrency: expected a number, got "lots" (from SLIPWAY_BUILDS_CONCURRENCY)',
    ],
    ['env JSON that does not parse', { SLIPWAY_APPS: '[{' }, 'apps: expected JSON'],
  ])('refuses %s', (_n, env, expected) => {
    expect(problems(() => loadConfig({ env, cwd: dir }))).toContain(expected);
  });

  it('refuses a missing explicit file and broken YAML with what to fix', () => {
    expect(() => loadConfig({ file: 'missing.yaml', env: {}, cwd: dir })).toThrow(/cannot read config file .*missing\.yaml: ENOENT; pass an existing file/);
    const broken = file('server: [\n');
    expect(() => loadConfig({ file: broken, env: {}, cwd: dir })).toThrow(/is not valid YAML/);
    expect(() => loadConfig({ env: { SLIPWAY_CONFIG: broken }, cwd: dir })).toThrow(/is not valid YAML/);
  });

  it('derives env names mechanically from key paths', () => {
    expect(envName(['github', 'webhookSecret'])).toBe('SLIPWAY_GITHUB_WEBHOOK_SECRET');
    const names = envKeys(configSchema).map((k) => k.env);
    expect(names).toEqual(
      expect.arrayContaining(['SLIPWAY_SERVER_PUBLIC_URL', 'SLIPWAY_GITLAB_WEBHOOK_TOKEN', 'SLIPWAY_BUILDS_LOCK_DURATION', 'SLIPWAY_APPS', 'SLIPWAY_TARGETS']),
    );
  });

  it.each([
    ['60s', 60_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['72h', 259_200_000],
    ['soon', undefined],
    ['10', undefined],
  ])('parses the duration %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('redacts secrets and URL passwords', () => {
    const { config } = loadConfig({
      env: { SLIPWAY_GITHUB_WEBHOOK_SECRET: 'gh-secret', SLIPWAY_GITLAB_TOKEN: 'gl-token', SLIPWAY_DATABASE: 'postgres://app:pg-pass@db/slipway' },
      cwd: dir,
    });
    const shown = JSON.stringify(redactConfig(config));
    for (const secret of ['gh-secret', 'gl-token', 'pg-pass']) expect(shown).not.toContain(secret);
    expect(shown).toContain('postgres://app:[redacted]@db/slipway');
  });

  it('logs the effective config at start with secrets redacted', async () => {
    let logged = '';
    const sink = new Writable({ write: (chunk, _e, cb) => ((logged += chunk.toString()), cb()) });
    const prefix = uniquePrefix();
    const { config } = loadConfig({
      env: {
        SLIPWAY_GITHUB_WEBHOOK_SECRET: 'very-secret-value',
        SLIPWAY_REDIS: TEST_REDIS_URL,
        SLIPWAY_REDIS_PREFIX: prefix,
        SLIPWAY_DATABASE: 'sqlite::memory:',
      },
      cwd: dir,
    });
    const rt = await startRuntime({ config, logger: createLogger({ level: 'info', destination: sink }), server: false, worker: false, cwd: dir });
    await rt.close();
    await deletePrefix(prefix);
    expect(logged).toContain('effective configuration');
    expect(logged).toContain('"webhookSecret":"[redacted]"');
    expect(logged).not.toContain('very-secret-value');
  });
});
