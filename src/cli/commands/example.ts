import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema, type SlipwayConfig } from '../../config/index.js';
import { promotedRevision } from '../../core/stage-outputs.js';
import { isTerminalState, type BuildState } from '../../core/types.js';
import { createBuild, getBuild, listStages, supersedeOlder } from '../../store/index.js';
import type { Runtime } from '../../app/runtime.js';

export const EXAMPLE_APP = 'hello';

/** The checkout's `examples/hello`, found from this module whether it runs from src/ or dist/. */
function exampleSource(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'examples', EXAMPLE_APP, 'Dockerfile'))) return join(dir, 'examples', EXAMPLE_APP);
    dir = dirname(dir);
  }
  return undefined;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    // A fixed author and date: the same example makes the same commit, so restarts reuse its build.
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Slipway',
      GIT_AUTHOR_EMAIL: 'slipway@localhost',
      GIT_COMMITTER_NAME: 'Slipway',
      GIT_COMMITTER_EMAIL: 'slipway@localhost',
      GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
    },
  }).trim();

export interface PreparedExample {
  config: SlipwayConfig;
  commit: string;
  cloneUrl: string;
}

/**
 * `slipway up` with no app configured deploys `examples/hello` through the whole pipeline, so
 * the first run shows every stage end to end. The example becomes a commit in a bare repository under
 * `.slipway/` and an app `hello` whose main branch goes to the first target; nothing is fetched from
 * outside this machine.
 */
export function prepareExample(config: SlipwayConfig, cwd: string): PreparedExample | undefined {
  const source = exampleSource();
  const target = Object.keys(config.targets)[0];
  if (!source || !target) return undefined;
  const bare = resolve(cwd, '.slipway', 'examples', `${EXAMPLE_APP}.git`);
  mkdirSync(dirname(bare), { recursive: true });
  if (!existsSync(bare)) git(dirname(bare), 'init', '-q', '--bare', '-b', 'main', bare);
  const work = mkdtempSync(join(tmpdir(), 'slipway-example-'));
  try {
    cpSync(source, work, { recursive: true });
    git(work, 'init', '-q', '-b', 'main');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'examples/hello');
    git(work, 'push', '-q', '--force', bare, 'HEAD:refs/heads/main');
    const commit = git(work, 'rev-parse', 'HEAD');
    const app = { name: EXAMPLE_APP, repo: `github:slipway-examples/${EXAMPLE_APP}`, cloneUrl: bare, branches: { main: target } };
    const withApp = configSchema.parse({ ...config, apps: [app] } as unknown) as SlipwayConfig;
    return { config: withApp, commit, cloneUrl: bare };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Builds the example's commit (once: the same commit reuses its build) and reports where it is served. */
export async function deployExample(runtime: Runtime, example: PreparedExample, out: NodeJS.WritableStream): Promise<void> {
  const target = runtime.config.apps[0]!.branches.main!;
  const { build, created } = await createBuild(runtime.store.db, {
    app: EXAMPLE_APP,
    target,
    commit: example.commit,
    ref: 'refs/heads/main',
    scope: 'branch:main',
    trigger: 'cli',
    cloneUrl: example.cloneUrl,
  });
  if (created) await supersedeOlder(runtime.store.db, build);
  await runtime.queue.enqueue([build.id]);
  out.write(`slipway up: deploying examples/${EXAMPLE_APP} as build ${build.id} (follow it with: slipway logs -f ${build.id})\n`);
  const ended = new Promise<BuildState>((resolvePromise) => {
    void runtime.events.follow(build.id, (event) => {
      if (event.type === 'state' && event.terminal) resolvePromise(event.state as BuildState);
    });
  });
  const current = await getBuild(runtime.store.db, build.id);
  const state = current && isTerminalState(current.state as BuildState) ? (current.state as BuildState) : await ended;
  if (state !== 'ready') {
    out.write(`slipway up: the example build ended ${state}; see slipway logs ${build.id}\n`);
    return;
  }
  const url = promotedRevision(await listStages(runtime.store.db, build.id))?.url;
  const local = runtime.config.targets[target];
  const listen = local?.kind === 'local' ? local.listen : undefined;
  out.write(
    `slipway up: examples/${EXAMPLE_APP} is ready at ${url ?? '(no URL)'}${listen ? ` — try: curl -H 'Host: ${new URL(url ?? 'http://x').host}' http://${listen}/` : ''}\n`,
  );
}
