// bench/serving — the local serving target: cold starts after scale to zero, and router throughput.
//
// The serving bench: cold start (first byte after scale-to-zero) p50/p95 from removed and from paused, and router
// throughput compared with requests sent straight to the container's port, in the same run
// (autocannon). Aims: from removed p50 ≤ 300 ms, from paused p50 ≤ 30 ms, router ≥ 0.7× direct.
//
// Set-up: an app image built here (busybox httpd on 127.0.0.1:$PORT serving a 2-byte page; BuildKit of
// the Docker Engine, `--network=host`) and pushed to the local registry. The real `bin/slipway router`
// runs as a child process (its own core, as in production) with two local targets over one SQLite file:
//   cold — idleTimeout and removeAfter BENCH_IDLE_MS (default 300 ms), for the cold-start rounds;
//   hot  — default timeouts, for throughput (nothing scales to zero in the middle of a run).
// This process deploys one revision to each (the control plane, over the same database) and points the
// app's traffic at it; the router picks routes up from the store and adopts the containers.
//
// Cold start: BENCH_COLD_ROUNDS (default 15) rounds each. A round waits (polling the Engine) until the
// revision's container is paused (resp. gone), then sends one request and times the first byte of the
// answer (response headers). Throughput: autocannon, BENCH_CONNECTIONS (10) keep-alive connections,
// BENCH_DURATION s (10) after BENCH_WARMUP s (2), against the router (Host: app.localhost) and straight
// at the container's port, in the order direct, router, router, direct (drift does not favour a side);
// req/s are averaged per side.
//
// Run: npm run build && node bench/run.mjs serving
import { execFile, spawn } from 'node:child_process';
import { cleanupRegistry } from '../lib/cleanup.mjs';
import { envNumber } from '../lib/env.mjs';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const BIN = join(ROOT, 'bin', 'slipway');
const RESULTS = join(ROOT, 'bench', 'results');
const require = createRequire(import.meta.url);

if (!existsSync(join(ROOT, 'dist', 'src', 'targets', 'index.js'))) {
  process.stderr.write('bench/serving: Slipway is not built (dist/src/targets/index.js is missing): run `npm run build` first, then `npm run bench`.\n');
  process.exit(1);
}
const autocannon = require('autocannon');
const { stringify: toYaml } = await import('yaml');
const { configSchema } = await import(join(ROOT, 'dist/src/config/index.js'));
const { openStore } = await import(join(ROOT, 'dist/src/store/index.js'));
const { openTargets, closeTargets } = await import(join(ROOT, 'dist/src/app/services/serving.js'));
const { createLogger } = await import(join(ROOT, 'dist/src/log/index.js'));

const num = envNumber;
const DURATION = num('BENCH_DURATION', 10);
const WARMUP = num('BENCH_WARMUP', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 10);
const ROUNDS = num('BENCH_COLD_ROUNDS', 15);
const IDLE_MS = num('BENCH_IDLE_MS', 300);
const DOCKER = process.env.BENCH_DOCKER_CLI ?? '/usr/bin/docker';
const REGISTRY = (process.env.BENCH_REGISTRY ?? '127.0.0.1:5000').replace(/^https?:\/\//, '');
const BASE = `${REGISTRY}/slipway/busybox:latest`;
const AIM = { removedP50Ms: 300, pausedP50Ms: 30, ratio: 0.7 };
const ID = randomBytes(4).toString('hex');
const PREFIX = `slipway-bench-serving-${ID}`;

// ---------------------------------------------------------------------------------------------
// Cleanup: the router child, the bench's containers (label dev.slipway.installation=PREFIX), the
// image tag, the temp dir — also on error and on Ctrl-C.

const { onCleanup, cleanup } = cleanupRegistry('serving');

const docker = (args) =>
  new Promise((resolve, reject) =>
    execFile(DOCKER, args, { env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`docker ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout.trim()),
    ),
  );

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() is truthy. */
async function until(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`bench/serving: timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function buildImage(dir) {
  const ctx = join(dir, 'image');
  mkdirSync(join(ctx, 'www'), { recursive: true });
  writeFileSync(join(ctx, 'www', 'index.html'), 'ok');
  chmodSync(join(ctx, 'www', 'index.html'), 0o644);
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY www /www\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:$PORT -h /www"]\n`);
  const tag = `${REGISTRY}/slipway-bench/serving-${ID}:v1`;
  await docker(['build', '--network=host', '-q', '-t', tag, ctx]);
  onCleanup(() => docker(['rmi', '-f', tag]).catch(() => undefined));
  await docker(['push', '-q', tag]);
  const digests = JSON.parse(await docker(['inspect', '--format', '{{json .RepoDigests}}', tag]));
  return digests.find((d) => d.startsWith(`${REGISTRY}/slipway-bench/serving-${ID}@`));
}

function startRouter(configFile, cwd) {
  const child = spawn(process.execPath, [BIN, 'router', '--config', configFile], {
    cwd,
    env: { ...process.env, SLIPWAY_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  onCleanup(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  );
  return until(
    () =>
      /listening on/.test(out) && (out.match(/listening on/g) ?? []).length >= 2
        ? true
        : child.exitCode !== null
          ? Promise.reject(new Error(`router exited:\n${out}`))
          : false,
    'the router to listen',
    30_000,
  );
}

/** Time to the first byte of the answer (response headers), in ms. */
function firstByte(url, host) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const { hostname, port } = new URL(url);
    const req = request({ host: hostname, port, path: '/', headers: { host }, agent: false }, (res) => {
      const ms = performance.now() - started;
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(ms) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const containerStates = async (revision) =>
  (
    await docker([
      'ps',
      '-a',
      '--filter',
      `label=dev.slipway.installation=${PREFIX}`,
      '--filter',
      `label=dev.slipway.revision=${revision}`,
      '--format',
      '{{.State}} {{.Label "dev.slipway.port"}}',
    ])
  )
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ state: l.split(' ')[0], port: Number(l.split(' ')[1]) }));

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const stats = (samples) => {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return { n: s.length, p50Ms: r(pct(s, 50)), p95Ms: r(pct(s, 95)), minMs: r(s[0]), maxMs: r(s[s.length - 1]) };
};

async function coldStarts(router, revision, from) {
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) {
    await firstByte(router, 'cold.localhost'); // wake it, so every round starts from a fresh idle period
    if (from === 'paused') await until(async () => (await containerStates(revision)).some((c) => c.state === 'paused'), 'the container to be paused');
    else await until(async () => (await containerStates(revision)).length === 0, 'the container to be removed');
    samples.push(await firstByte(router, 'cold.localhost'));
  }
  return samples;
}

function cannon(url, host, duration) {
  const latency = createHistogram({ lowest: 1, highest: 60e6, figures: 3 });
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections: CONNECTIONS, duration, headers: host ? { host } : {} }, (err, result) =>
      err ? reject(err) : resolve({ result, latency }),
    );
    instance.on('response', (_c, _s, _b, ms) => latency.record(Math.max(1, Math.round(ms * 1000))));
  });
}

async function throughput(label, url, host) {
  await cannon(url, host, WARMUP);
  const { result, latency } = await cannon(url, host, DURATION);
  const ms = (us) => Math.round(us / 10) / 100;
  return {
    side: label,
    reqPerSec: Math.round(result.requests.average),
    p50Ms: ms(latency.percentile(50)),
    p99Ms: ms(latency.percentile(99)),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

// ---------------------------------------------------------------------------------------------

try {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-serving-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  onCleanup(async () => {
    const ids = (await docker(['ps', '-aq', '--filter', `label=dev.slipway.installation=${PREFIX}`])).split('\n').filter(Boolean);
    if (ids.length) await docker(['rm', '-f', ...ids]);
  });
  process.stdout.write('building and pushing the app image… ');
  const image = await buildImage(dir);
  process.stdout.write(`${image}\n`);

  const [hotPort, coldPort] = [await freePort(), await freePort()];
  const raw = {
    redisPrefix: PREFIX,
    database: `sqlite:${join(dir, 'slipway.db')}`,
    log: { level: 'warn' },
    targets: {
      hot: { kind: 'local', listen: `127.0.0.1:${hotPort}` },
      cold: { kind: 'local', listen: `127.0.0.1:${coldPort}`, idleTimeout: IDLE_MS, removeAfter: IDLE_MS },
    },
  };
  const configFile = join(dir, 'slipway.yaml');
  writeFileSync(configFile, toYaml(raw));
  const config = configSchema.parse(raw);
  const store = await openStore({ url: config.database });
  const targets = openTargets(config, store, createLogger({ level: 'warn' }));
  onCleanup(async () => {
    await closeTargets(targets);
    await store.close();
  });
  const deployed = {};
  for (const name of ['hot', 'cold']) {
    const result = await targets
      .get(name)
      .promote(name, { image, commit: 'b'.repeat(40), buildId: `b-bench-${name}`, buildCreatedAt: new Date().toISOString() });
    deployed[name] = result.revision;
  }
  await startRouter(configFile, dir);
  const hotUrl = `http://127.0.0.1:${hotPort}`;
  const coldUrl = `http://127.0.0.1:${coldPort}`;
  await until(async () => (await firstByte(hotUrl, 'hot.localhost').catch(() => 0)) > 0, 'the router to serve hot.localhost');
  await until(async () => (await firstByte(coldUrl, 'cold.localhost').catch(() => 0)) > 0, 'the router to serve cold.localhost');

  process.stdout.write(`cold starts (${ROUNDS} rounds each, idle ${IDLE_MS} ms)…\n`);
  const paused = stats(await coldStarts(coldUrl, deployed.cold, 'paused'));
  const removed = stats(await coldStarts(coldUrl, deployed.cold, 'removed'));

  const [hot] = await containerStates(deployed.hot);
  const direct = `http://127.0.0.1:${hot.port}`;
  process.stdout.write(`throughput (${CONNECTIONS} connections, ${DURATION} s each, order direct, router, router, direct)…\n`);
  const runs = [];
  runs.push(await throughput('direct', direct));
  runs.push(await throughput('router', hotUrl, 'hot.localhost'));
  runs.push(await throughput('router', hotUrl, 'hot.localhost'));
  runs.push(await throughput('direct', direct));
  const mean = (side) => Math.round(runs.filter((r) => r.side === side).reduce((s, r) => s + r.reqPerSec, 0) / 2);
  const ratio = Math.round((mean('router') / mean('direct')) * 100) / 100;

  const report = {
    bench: 'serving',
    at: new Date().toISOString(),
    settings: { rounds: ROUNDS, idleMs: IDLE_MS, connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP },
    coldStart: { paused, removed },
    throughput: { runs, routerReqPerSec: mean('router'), directReqPerSec: mean('direct'), ratio },
    aims: { ...AIM, met: { paused: paused.p50Ms <= AIM.pausedP50Ms, removed: removed.p50Ms <= AIM.removedP50Ms, ratio: ratio >= AIM.ratio } },
  };
  const line = (cells) => cells.map((c, i) => String(c).padEnd([22, 10, 10, 10, 10][i] ?? 10)).join(' ');
  process.stdout.write(`\n${line(['cold start from', 'p50 ms', 'p95 ms', 'min ms', 'max ms'])}\n`);
  for (const [name, s] of [
    ['paused', paused],
    ['removed', removed],
  ])
    process.stdout.write(`${line([name, s.p50Ms, s.p95Ms, s.minMs, s.maxMs])}\n`);
  process.stdout.write(`\n${line(['throughput', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'])}\n`);
  for (const r of runs) process.stdout.write(`${line([r.side, r.reqPerSec, r.p50Ms, r.p99Ms, r.non2xx + r.errors + r.timeouts])}\n`);
  process.stdout.write(
    `\nrouter ÷ direct = ${ratio} (aim ≥ ${AIM.ratio}: ${report.aims.met.ratio ? 'met' : 'NOT met'}); from paused p50 ${paused.p50Ms} ms (aim ≤ ${AIM.pausedP50Ms}: ${report.aims.met.paused ? 'met' : 'NOT met'}); from removed p50 ${removed.p50Ms} ms (aim ≤ ${AIM.removedP50Ms}: ${report.aims.met.removed ? 'met' : 'NOT met'})\n`,
  );
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `serving-${report.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`report: ${file}\n`);
} finally {
  await cleanup();
}
