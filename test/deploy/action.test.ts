import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY } from '../buildkit/registry-image.js';
import { FINAL_STATE, servingApp, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { STATIC_TOKEN, staticTokenConfig } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = join(ROOT, 'actions/deploy/dist/index.js');

/** Runs the committed bundle as the runner does: inputs as INPUT_*, outputs and summary as files. */
function runAction(inputs: Record<string, string>, dir: string): Promise<{ code: number | null; stdout: string; outputs: string; summary: string }> {
  const outputs = join(dir, `output-${randomBytes(3).toString('hex')}`);
  const summary = join(dir, `summary-${randomBytes(3).toString('hex')}`);
  writeFileSync(outputs, '');
  writeFileSync(summary, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary, GITHUB_REF: 'refs/heads/main' };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((done) => {
    const child = spawn(process.execPath, [BUNDLE], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.on('close', (code) => done({ code, stdout, outputs: readFileSync(outputs, 'utf8'), summary: readFileSync(summary, 'utf8') }));
  });
}

describe('actions/deploy (the committed bundle, against a running Slipway)', () => {
  const app = `act-${randomBytes(4).toString('hex')}`;
  let rt: TestRuntime;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-action-'));
    rt = await startTestRuntime({
      config: {
        registry: { url: REGISTRY, namespace: 'slipway' },
        policies: resolve(ROOT, 'policies'),
        api: { tokens: staticTokenConfig },
        apps: [{ name: app, repo: `github:octo/${app}`, branches: { main: 'local' } }],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const context = (name: string, files: Record<string, string>) => {
    const ctx = join(dir, name);
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(join(ctx, file, '..'), { recursive: true });
      writeFileSync(join(ctx, file), content);
    }
    return ctx;
  };

  it('deploys: outputs set, log in groups, summary table written', async () => {
    const ctx = context('ok', servingApp(`from the action ${app}\n`));
    const run = await runAction({ server: rt.url, app, context: ctx, token: STATIC_TOKEN, wait: 'true' }, dir);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('::group::build');
    // The one place the token may appear is the runner's instruction to mask it everywhere.
    expect(run.stdout).toContain(`::add-mask::${STATIC_TOKEN}`);
    expect(run.stdout.replace(`::add-mask::${STATIC_TOKEN}`, '')).not.toContain(STATIC_TOKEN);
    expect(run.outputs).toMatch(/^build-id<<.*\n\S+\n/m);
    expect(run.outputs).toMatch(/^digest<<.*\nsha256:[a-f0-9]{64}\n/m);
    expect(run.summary).toContain(`Slipway: ${app} ${FINAL_STATE}`);
    expect(run.summary).toContain('<table>');
  }, 180_000);

  it('fails the step with an ::error annotation when a policy rejects the build', async () => {
    const ctx = context('root', servingApp('runs as root\n', { user: null }));
    const run = await runAction({ server: rt.url, app, context: ctx, token: STATIC_TOKEN }, dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error title=Slipway%3A rejected by policy::build \S+ for/);
    expect(run.summary).toContain('rejected');
  }, 180_000);

  it('fails with ::error when the token is refused', async () => {
    const ctx = context('unauth', servingApp('x\n'));
    const run = await runAction({ server: rt.url, app, context: ctx, token: 'wrong' }, dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('::error title=Slipway deploy failed::a valid bearer token is required (SLW_AUTH_REQUIRED)');
  });

  it('the committed bundle is what `npm run build:action` makes of the source', async () => {
    const fresh = join(dir, 'bundle.js');
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, [join(ROOT, 'scripts/build-action.mjs'), '--outfile', fresh], { stdio: 'inherit' });
      child.on('close', (code) => (code === 0 ? done() : fail(new Error(`build-action exited ${code}`))));
    });
    expect(readFileSync(fresh, 'utf8') === readFileSync(BUNDLE, 'utf8'), 'actions/deploy/dist/index.js is stale: run npm run build:action').toBe(true);
  });
});
