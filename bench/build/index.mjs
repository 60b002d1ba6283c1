// bench/build — Slipway's BuildKit client against Docker's legacy builder, side by side, same Engine.
//
// The build bench: a fixture of 200 files × 20 KB with two RUN steps, built alternately by Slipway's client
// (in this process: a BuildkitClient per build, the session, Solve + Status, the moby exporter) and by
// `DOCKER_BUILDKIT=0 /usr/bin/docker build` against the same Docker Engine, in three scenarios:
//   cold    — fresh file contents, no cache (Slipway: noCache and a new session shared key, so the
//             whole context crosses; legacy: --no-cache, and it always sends the whole context);
//   changed — one file rewritten before each build; cache on;
//   repeat  — nothing changed (cache hit).
// Medians of BENCH_BUILD_RUNS (default 7) runs each, and Slipway/legacy ratios. Aim: repeat ≤ 0.7×,
// cold ≤ 0.8×. Neither side pushes (the legacy builder cannot push as part of a build), so this
// compares building and storing the image in the Engine. Order alternates every run so drift does
// not favour one side. Also reported, not compared: `bin/slipway build --no-push` as a fresh process
// (module loading and connection included), repeat scenario.
//
// Run: npm run build && node bench/run.mjs build   (or: node bench/build/index.mjs)
// Env: BENCH_BUILD_RUNS (default 7), BENCH_BUILDKIT (default docker:///var/run/docker.sock),
//      BENCH_DOCKER_CLI (default /usr/bin/docker: Debian's 20.10 CLI; the CLI 28 in /usr/local/bin
//      has no legacy builder fallback worth comparing and no buildx).
import { spawn } from 'node:child_process';
import { cleanupRegistry } from '../lib/cleanup.mjs';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const BIN = join(ROOT, 'bin', 'slipway');
const RESULTS = join(ROOT, 'bench', 'results');
const DIST = join(ROOT, 'dist', 'src', 'buildkit', 'index.js');

if (!existsSync(DIST)) {
  process.stderr.write('bench/build: Slipway is not built (dist/src/buildkit/index.js is missing): run `npm run build` first, then `npm run bench`.\n');
  process.exit(1);
}
const { BuildkitClient, buildImage } = await import(DIST);

const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 7);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_BUILD_RUNS=${process.env.BENCH_BUILD_RUNS} is not a positive whole number`);
const ADDRESS = process.env.BENCH_BUILDKIT ?? 'docker:///var/run/docker.sock';
const DOCKER = process.env.BENCH_DOCKER_CLI ?? '/usr/bin/docker';
const BASE = '127.0.0.1:5000/slipway/busybox:latest';
const FILES = 200;
const FILE_BYTES = 20 * 1024;
const AIM = { repeat: 0.7, cold: 0.8 };
const ID = randomBytes(4).toString('hex');
const TAGS = { slipway: `slipway-bench-build-${ID}-slipway`, legacy: `slipway-bench-build-${ID}-legacy` };

// ---------------------------------------------------------------------------------------------
// Cleanup: temp dirs and the two bench images, also on error and on Ctrl-C.

const { onCleanup, cleanup } = cleanupRegistry('build');

/** Runs a command; resolves with its exit code, output and wall time in ms. */
function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, ms: performance.now() - started }));
  });
}

// ---------------------------------------------------------------------------------------------
// Fixture: 200 files × 20 KB of random bytes, a Dockerfile with COPY and two RUN steps.

const DOCKERFILE = [`FROM ${BASE}`, 'COPY . /app', 'RUN cat /app/files/* | wc -c > /app-bytes', 'RUN find /app -type f | wc -l > /app-count', ''].join('\n');

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-build-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, 'files', `f${String(i).padStart(3, '0')}.bin`), randomBytes(FILE_BYTES));
  return dir;
}
const touchOne = (dir, run) => writeFileSync(join(dir, 'files', `f${String(run % FILES).padStart(3, '0')}.bin`), randomBytes(FILE_BYTES));

// ---------------------------------------------------------------------------------------------
// The two builders.

async function slipwayBuild(dir, { sharedKey, noCache }) {
  const started = performance.now();
  const client = new BuildkitClient(ADDRESS);
  try {
    const result = await buildImage(client, { contextDir: dir, repository: TAGS.slipway, tag: 'latest', push: false, sharedKey, noCache });
    return { ms: performance.now() - started, transferredBytes: result.transfers.context?.bytes ?? 0 };
  } finally {
    client.close();
  }
}

async function legacyBuild(dir, { noCache }) {
  const r = await run(DOCKER, ['build', '-q', '--network=none', ...(noCache ? ['--no-cache'] : []), '-t', TAGS.legacy, dir], { DOCKER_BUILDKIT: '0' });
  if (r.code !== 0) throw new Error(`legacy docker build failed (exit ${r.code}):\n${r.out}`);
  return { ms: r.ms };
}

async function cliBuild(dir) {
  const r = await run(process.execPath, [BIN, 'build', dir, '--image', `${TAGS.slipway}:cli`, '--no-push', '-q'], { SLIPWAY_BUILDKIT: ADDRESS });
  if (r.code !== 0) throw new Error(`slipway build failed (exit ${r.code}):\n${r.out}`);
  return { ms: r.ms };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------------------------

async function main() {
  const probe = await run(DOCKER, ['image', 'inspect', BASE]);
  if (probe.code !== 0) {
    const pull = await run(DOCKER, ['pull', BASE]);
    if (pull.code !== 0) throw new Error(`base image ${BASE} is not available (run scripts/test.sh, which builds it offline):\n${pull.out}`);
  }
  onCleanup(async () => {
    await run(DOCKER, ['rmi', '-f', TAGS.slipway, `${TAGS.slipway}:cli`, TAGS.legacy]);
  });

  const dirs = { slipway: fixture(), legacy: fixture() };
  const sharedKey = `bench-build-${ID}`;
  // Warm-up: base image metadata, both caches filled once.
  await slipwayBuild(dirs.slipway, { sharedKey });
  await legacyBuild(dirs.legacy, {});

  const samples = { cold: { slipway: [], legacy: [] }, changed: { slipway: [], legacy: [] }, repeat: { slipway: [], legacy: [] } };
  const transferred = { cold: [], changed: [], repeat: [] };
  const record = (scenario, side, r) => {
    samples[scenario][side].push(r.ms);
    if (side === 'slipway') transferred[scenario].push(r.transferredBytes);
  };

  for (let i = 0; i < RUNS; i++) {
    const slipwayFirst = i % 2 === 0;
    const both = async (scenario, fnSlipway, fnLegacy) => {
      if (slipwayFirst) {
        record(scenario, 'slipway', await fnSlipway());
        record(scenario, 'legacy', await fnLegacy());
      } else {
        record(scenario, 'legacy', await fnLegacy());
        record(scenario, 'slipway', await fnSlipway());
      }
    };
    // cold: new contents and no cache; Slipway also under a new shared key, so all of it crosses.
    const coldDirs = { slipway: fixture(), legacy: fixture() };
    await both(
      'cold',
      () => slipwayBuild(coldDirs.slipway, { sharedKey: `${sharedKey}-cold-${i}`, noCache: true }),
      () => legacyBuild(coldDirs.legacy, { noCache: true }),
    );
    rmSync(coldDirs.slipway, { recursive: true, force: true });
    rmSync(coldDirs.legacy, { recursive: true, force: true });
    // changed: one file rewritten in each fixture, then built with the cache.
    touchOne(dirs.slipway, i);
    touchOne(dirs.legacy, i);
    await both(
      'changed',
      () => slipwayBuild(dirs.slipway, { sharedKey }),
      () => legacyBuild(dirs.legacy, {}),
    );
    // repeat: nothing changed since the last build.
    await both(
      'repeat',
      () => slipwayBuild(dirs.slipway, { sharedKey }),
      () => legacyBuild(dirs.legacy, {}),
    );
    process.stderr.write(`bench/build: run ${i + 1}/${RUNS} done\n`);
  }

  const cli = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) cli.push((await cliBuild(dirs.slipway)).ms);

  const rows = Object.entries(samples).map(([scenario, s]) => {
    const slipway = median(s.slipway);
    const legacy = median(s.legacy);
    return {
      scenario,
      slipwayMs: Math.round(slipway),
      legacyMs: Math.round(legacy),
      ratio: Number((slipway / legacy).toFixed(2)),
      aim: AIM[scenario] ?? null,
      slipwayContextBytes: median(transferred[scenario]),
    };
  });

  const pad = (v, n) => String(v).padEnd(n);
  process.stdout.write(`\nbench/build: median of ${RUNS} runs each, ${FILES} files × ${FILE_BYTES / 1024} KB, two RUN steps, Engine at ${ADDRESS}\n\n`);
  process.stdout.write(
    `${pad('scenario', 9)} ${pad('slipway ms', 11)} ${pad('legacy ms', 10)} ${pad('ratio', 6)} ${pad('aim', 8)} slipway context bytes sent\n`,
  );
  for (const r of rows) {
    const aim = r.aim === null ? '—' : `≤ ${r.aim}${r.ratio <= r.aim ? ' ✓' : ' ✗'}`;
    process.stdout.write(`${pad(r.scenario, 9)} ${pad(r.slipwayMs, 11)} ${pad(r.legacyMs, 10)} ${pad(r.ratio, 6)} ${pad(aim, 8)} ${r.slipwayContextBytes}\n`);
  }
  process.stdout.write(`\nslipway build as a fresh process (repeat, --no-push), median of ${cli.length}: ${Math.round(median(cli))} ms\n`);

  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `build-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ bench: 'build', node: process.version, runs: RUNS, address: ADDRESS, fixture: { files: FILES, fileBytes: FILE_BYTES, dockerfile: DOCKERFILE }, rows, samples, transferred, cliProcessMs: cli }, null, 2)}\n`,
  );
  process.stdout.write(`report: ${file}\n`);
}

try {
  await main();
} finally {
  await cleanup();
}
