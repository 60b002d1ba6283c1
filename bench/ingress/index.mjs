// bench/ingress — Slipway's webhook ingress (POST /webhooks/github) against a minimal node:http
// server that only verifies the same HMAC and answers 202, side by side in one run, same client.
//
// Both servers are child processes (one process each); the client (autocannon) runs in this
// process. Every request is a real GitHub push payload with its own commit and delivery id,
// signed ahead of time (see RequestPool), so each server sees each delivery exactly once.
//
// Modes, for each server: throughput (autocannon, CONNECTIONS connections, after a warm-up);
// rate-N (autocannon overallRate N: bursts at the start of each second, see paced()); paced-N
// (our own open-loop client sending N req/s evenly — what "p99 at N req/s" usually means).
//
// Run: npm run build && node bench/run.mjs ingress   (or: node bench/ingress/index.mjs)
// Env: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2), BENCH_RATE (default 500),
//      BENCH_CONNECTIONS (default 10), BENCH_REDIS_URL (default redis://127.0.0.1:6379),
//      BENCH_PROFILE=1 (write a --cpu-prof of the Slipway server to bench/results/profiles/).
import { spawn } from 'node:child_process';
import { cleanupRegistry } from '../lib/cleanup.mjs';
import { envNumber } from '../lib/env.mjs';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const BIN = join(ROOT, 'bin', 'slipway');
const RESULTS = join(ROOT, 'bench', 'results');
const require = createRequire(import.meta.url);

if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'bin.js'))) {
  process.stderr.write('bench/ingress: Slipway is not built (dist/src/cli/bin.js is missing): run `npm run build` first, then `npm run bench`.\n');
  process.exit(1);
}

const autocannon = require('autocannon');
const { Redis } = await import('ioredis');
const { stringify: toYaml } = await import('yaml');

const num = envNumber;
const DURATION = num('BENCH_DURATION', 10);
const WARMUP = num('BENCH_WARMUP', 2);
const RATE = num('BENCH_RATE', 500);
const CONNECTIONS = num('BENCH_CONNECTIONS', 10);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROFILE = process.env.BENCH_PROFILE === '1';
const SECRET = `bench-${randomBytes(12).toString('hex')}`;
const AIM = { ratio: 0.6, p99Ms: 25 };

// ---------------------------------------------------------------------------------------------
// Payloads: GitHub's own push example (npm @octokit/webhooks-examples), re-pointed at octo/hello
// on main, exactly as test/helpers/webhooks.ts githubPush() does. The commit appears in `after`
// and `head_commit.id`; the body is kept as a template split around it, so a request's body is
// three string concatenations and its signature is computed ahead of time.

function pushTemplate() {
  const groups = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'));
  const example = groups.find((g) => g.name === 'push').examples.find((e) => e.ref === 'refs/heads/master' && !e.deleted);
  const MARK = 'Q'.repeat(40); // not hex, so it cannot collide with anything in the example
  example.ref = 'refs/heads/main';
  example.before = '0'.repeat(40);
  example.after = MARK;
  example.deleted = false;
  if (example.head_commit) example.head_commit.id = MARK;
  example.repository.full_name = 'octo/hello';
  example.repository.name = 'hello';
  example.repository.owner.login = 'octo';
  example.repository.clone_url = 'https://github.com/octo/hello.git';
  example.repository.html_url = 'https://github.com/octo/hello';
  const parts = JSON.stringify(example).split(MARK);
  if (parts.length < 2) throw new Error('push template: commit marker not found');
  return parts;
}
const PARTS = pushTemplate();
const bodyFor = (commit) => PARTS.join(commit);
const STATIC_HEADERS = { 'content-type': 'application/json', 'x-github-event': 'push', 'user-agent': 'GitHub-Hookshot/bench' };

/**
 * Signed requests made before a run, used once each in order. Sized to the most requests the run
 * can make; should it still run out, further requests are signed on the spot (counted as
 * `signedLate`) — a delivery id or commit is never sent twice to the same server.
 */
class RequestPool {
  constructor(size) {
    const started = performance.now();
    this.entries = new Array(size);
    const rand = randomBytes(20 * size);
    for (let i = 0; i < size; i++) this.entries[i] = RequestPool.sign(rand.toString('hex', i * 20, i * 20 + 20));
    this.next = 0;
    this.signedLate = 0;
    this.buildMs = performance.now() - started;
  }
  static sign(commit) {
    const body = bodyFor(commit);
    return { commit, delivery: randomUUID(), signature: `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` };
  }
  take() {
    if (this.next < this.entries.length) {
      const e = this.entries[this.next];
      this.entries[this.next++] = undefined; // let it go: used once
      return e;
    }
    this.signedLate++;
    return RequestPool.sign(randomBytes(20).toString('hex'));
  }
  get used() {
    return this.next + this.signedLate;
  }
  toRequest(e) {
    return {
      method: 'POST',
      path: '/webhooks/github',
      headers: { ...STATIC_HEADERS, 'x-github-delivery': e.delivery, 'x-hub-signature-256': e.signature },
      body: bodyFor(e.commit),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes: everything started is registered here and stopped on exit, error or signal.

const { onCleanup, cleanup } = cleanupRegistry('ingress');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns a node child, resolves with the first match of `ready` in its output. */
function spawnNode(name, args, { cwd, env, ready, timeoutMs = 30_000 }) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  });
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms; output:\n${out.slice(-3000)}`)), timeoutMs);
    const onData = (chunk) => {
      out = (out + chunk.toString()).slice(-64 * 1024);
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready; output:\n${out.slice(-3000)}`));
    });
  });
  return { child, started, exited, output: () => out };
}

async function deletePrefix(prefix) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

async function startSlipway() {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = `slipway-bench-${randomBytes(5).toString('hex')}`;
  onCleanup(() => deletePrefix(prefix));
  const port = await freePort();
  const config = join(dir, 'slipway.yaml');
  writeFileSync(
    config,
    toYaml({
      server: { listen: `127.0.0.1:${port}`, publicUrl: `http://127.0.0.1:${port}` },
      redis: REDIS_URL,
      redisPrefix: prefix,
      log: { level: 'warn' },
      github: { webhookSecret: SECRET },
      apps: [{ name: 'hello', repo: 'github:octo/hello', cloneUrl: '/nonexistent', branches: { main: 'local' } }],
    }),
  );
  // The child gets no SLIPWAY_* from our environment: only the config file above applies.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLIPWAY_')));
  const nodeArgs = [];
  if (PROFILE) {
    const profDir = join(RESULTS, 'profiles');
    mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  }
  const proc = spawnNode('slipway server', [...nodeArgs, BIN, 'server', '--config', config], { cwd: dir, env, ready: /listening on (http:\/\/\S+)/ });
  const [, url] = await proc.started;
  return { name: 'slipway', url, pid: proc.child.pid, dir, prefix, proc };
}

async function startBaseline() {
  const proc = spawnNode('baseline server', [join(HERE, 'baseline-server.mjs')], {
    cwd: HERE,
    env: { ...process.env, BENCH_WEBHOOK_SECRET: SECRET },
    ready: /listening on (http:\/\/\S+)/,
  });
  const [, url] = await proc.started;
  return { name: 'baseline', url, pid: proc.child.pid, proc };
}

// ---------------------------------------------------------------------------------------------
// Checks before measuring: a signed push is accepted (Slipway: one build), a forged one is not.

async function post(server, pool, { forge = false } = {}) {
  const req = pool.toRequest(pool.take());
  if (forge) req.headers['x-hub-signature-256'] = `sha256=${'0'.repeat(64)}`;
  const res = await fetch(server.url + req.path, { method: 'POST', headers: req.headers, body: req.body });
  return { status: res.status, body: await res.text() };
}

async function sanityCheck(server, pool) {
  const ok = await post(server, pool);
  if (ok.status !== 202) throw new Error(`${server.name}: a signed push got ${ok.status}, not 202: ${ok.body.slice(0, 500)}`);
  const parsed = JSON.parse(ok.body);
  if (server.name === 'slipway' && (parsed.duplicate !== false || !Array.isArray(parsed.builds) || parsed.builds.length !== 1)) {
    throw new Error(`slipway: a signed push should create exactly one build; answer: ${ok.body.slice(0, 500)}`);
  }
  const forged = await post(server, pool, { forge: true });
  if (forged.status !== 401) throw new Error(`${server.name}: a forged signature got ${forged.status}, not 401`);
  return { status: ok.status, builds: parsed.builds.length, forgedStatus: forged.status };
}

// ---------------------------------------------------------------------------------------------
// One autocannon run. Latency is recorded per response from autocannon's own hrtime-based timing
// into a microsecond histogram (autocannon's built-in histogram rounds to whole milliseconds).

function cannon(server, pool, { duration, overallRate }) {
  const latency = createHistogram({ lowest: 1, highest: 60e6, figures: 3 });
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
        connections: CONNECTIONS,
        duration,
        ...(overallRate ? { overallRate } : {}),
        requests: [{ setupRequest: (req) => Object.assign(req, pool.toRequest(pool.take())) }],
      },
      (err, result) => (err ? reject(err) : resolve({ result, latency })),
    );
    instance.on('response', (_client, _status, _bytes, ms) => latency.record(Math.max(1, Math.round(ms * 1000))));
  });
}

function summarize(server, mode, { result, latency }, pool) {
  const ms = (us) => Math.round(us / 10) / 100;
  const completed = result.requests.total;
  return {
    server: server.name,
    mode,
    reqPerSec: Math.round(result.requests.mean),
    reqPerSecTotal: Math.round(completed / result.duration),
    p50Ms: ms(latency.percentile(50)),
    p90Ms: ms(latency.percentile(90)),
    p99Ms: ms(latency.percentile(99)),
    maxMs: ms(latency.max),
    requests: completed,
    sent: result.requests.sent,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    durationS: result.duration,
    connections: result.connections,
    signedLate: pool.signedLate,
  };
}

async function warmUp(server, pool) {
  const { result } = await cannon(server, pool, { duration: WARMUP });
  return result.requests.total / result.duration;
}

/**
 * An open-loop client at a steady `rate`: request i is due at start + i/rate, sent on a 1 ms tick
 * over at most CONNECTIONS keep-alive sockets, and its latency counts from when it was due (so a
 * server that falls behind is charged for the queueing — no coordinated omission). autocannon's
 * overallRate instead lets each connection send its share back to back at the start of every
 * second, which measures the latency of bursts at full concurrency.
 */
function paced(server, pool, { duration, rate }) {
  const latency = createHistogram({ lowest: 1, highest: 60e6, figures: 3 });
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const { hostname, port } = new URL(server.url);
  const total = Math.round(duration * rate);
  const statusCodes = {};
  let sent = 0;
  let done = 0;
  let non2xx = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const start = performance.now();
    let over = false;
    const finish = (force = false) => {
      if (over || (done !== total && !force)) return;
      over = true;
      clearTimeout(deadline);
      clearInterval(tick);
      agent.destroy();
      const elapsed = (performance.now() - start) / 1000;
      // Bounded: whatever is unanswered at the deadline (or never sent) counts as timed out.
      resolve({ latency, completed: done - errors, elapsed, non2xx, errors, timeouts: total - done, statusCodes });
    };
    const deadline = setTimeout(() => finish(true), (duration * 3 + 10) * 1000);
    const fire = (due) => {
      const r = pool.toRequest(pool.take());
      const body = Buffer.from(r.body);
      const req = httpRequest({ agent, hostname, port, method: r.method, path: r.path, headers: { ...r.headers, 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (over) return;
          latency.record(Math.max(1, Math.round((performance.now() - due) * 1000)));
          statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1;
          if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
          done++;
          finish();
        });
      });
      req.on('error', () => {
        if (over) return;
        errors++;
        done++;
        finish();
      });
      req.end(body);
    };
    const tick = setInterval(() => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) fire(start + (sent++ * 1000) / rate);
      if (sent === total) clearInterval(tick);
    }, 1);
  });
}

function summarizePaced(server, mode, r, pool) {
  const ms = (us) => Math.round(us / 10) / 100;
  return {
    server: server.name,
    mode,
    reqPerSec: Math.round(r.completed / r.elapsed),
    reqPerSecTotal: Math.round(r.completed / r.elapsed),
    p50Ms: ms(r.latency.percentile(50)),
    p90Ms: ms(r.latency.percentile(90)),
    p99Ms: ms(r.latency.percentile(99)),
    maxMs: ms(r.latency.max),
    requests: r.completed,
    sent: r.completed + r.errors + r.timeouts,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: r.statusCodes,
    durationS: Math.round(r.elapsed * 100) / 100,
    connections: CONNECTIONS,
    signedLate: pool.signedLate,
  };
}

// ---------------------------------------------------------------------------------------------

function table(rows) {
  const cols = [
    ['server', (r) => r.server],
    ['mode', (r) => r.mode],
    ['req/s', (r) => String(r.reqPerSec)],
    ['p50 ms', (r) => r.p50Ms.toFixed(2)],
    ['p99 ms', (r) => r.p99Ms.toFixed(2)],
    ['non-2xx', (r) => String(r.non2xx)],
  ];
  const cells = rows.map((r) => cols.map(([, f]) => f(r)));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals) => '| ' + vals.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ') + ' |';
  return [
    line(cols.map(([h]) => h)),
    '|' + widths.map((w, i) => (i < 2 ? ':' : '-') + '-'.repeat(w) + (i < 2 ? '-' : ':')).join('|') + '|',
    ...cells.map(line),
  ].join('\n');
}

async function main() {
  const startedAt = new Date();
  const log = (s) => process.stdout.write(`${s}\n`);
  log(`bench/ingress: ${CONNECTIONS} connections; throughput ${DURATION}s after ${WARMUP}s warm-up; fixed rate ${RATE} req/s for ${DURATION}s`);

  const [slipway, baseline] = await Promise.all([startSlipway(), startBaseline()]);
  log(`  slipway  ${slipway.url} (pid ${slipway.pid}, cwd ${slipway.dir}, redis prefix ${slipway.prefix})`);
  log(`  baseline ${baseline.url} (pid ${baseline.pid})`);

  // Warm-up and sanity requests sign on the spot (pool of 0): they are not measured.
  const loose = { slipway: new RequestPool(0), baseline: new RequestPool(0) };
  const checks = { slipway: await sanityCheck(slipway, loose.slipway), baseline: await sanityCheck(baseline, loose.baseline) };
  log('  sanity: both answer a signed push 202 (Slipway with one build) and a forged one 401');

  const rows = [];
  const pools = [];
  const measure = async (server, mode, opts, size) => {
    const before = loose[server.name].used + pools.filter((p) => p.server === server.name).reduce((n, p) => n + p.used, 0);
    const pool = new RequestPool(size);
    pools.push({ server: server.name, mode, size, buildMs: Math.round(pool.buildMs) });
    const row = opts.paced
      ? summarizePaced(server, mode, await paced(server, pool, opts), pool)
      : summarize(server, mode, await cannon(server, pool, opts), pool);
    pools.at(-1).used = pool.used;
    row.poolSize = size;
    // For Slipway: pushes it had already stored when this run began (its builds table only grows).
    row.pushesBefore = before;
    rows.push(row);
    log(
      `  ${server.name.padEnd(8)} ${mode.padEnd(10)} ${row.reqPerSec} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, non-2xx ${row.non2xx}, errors ${row.errors}`,
    );
    return row;
  };

  // (a) throughput: baseline first, then Slipway; each right after its own warm-up. The pool is
  // sized from the warm-up rate with 4x headroom (the warm-up is still JIT-ing), counting at most
  // 60,000 req/s (beyond what one autocannon thread reaches here) and never fewer than 20,000.
  for (const server of [baseline, slipway]) {
    const warm = await warmUp(server, loose[server.name]);
    await measure(server, 'throughput', { duration: DURATION }, Math.max(20_000, Math.ceil(Math.min(Math.max(warm * 4, 2_000), 60_000) * DURATION) + 1_000));
  }
  // (b) fixed rate: Slipway first, then baseline (reverse order, so drift does not favour one side).
  // autocannon cannot send more than RATE per started second.
  for (const server of [slipway, baseline]) {
    await measure(server, `rate-${RATE}`, { duration: DURATION, overallRate: RATE }, Math.ceil(RATE * (DURATION + 1)) + 100);
  }
  // (c) the same rate, paced evenly by our own open-loop client (see paced()); baseline first.
  for (const server of [baseline, slipway]) {
    await measure(server, `paced-${RATE}`, { duration: DURATION, rate: RATE, paced: true }, Math.ceil(RATE * DURATION) + 10);
  }

  const get = (server, mode) => rows.find((r) => r.server === server && r.mode === mode);
  const ratio = get('slipway', 'throughput').reqPerSec / get('baseline', 'throughput').reqPerSec;
  const slipRate = get('slipway', `rate-${RATE}`);
  const aims = {
    ratio: { aim: `>= ${AIM.ratio}`, value: Math.round(ratio * 1000) / 1000, met: ratio >= AIM.ratio },
    p99AtRate: { aim: `< ${AIM.p99Ms} ms at ${RATE} req/s`, value: slipRate.p99Ms, met: slipRate.p99Ms < AIM.p99Ms },
  };
  const slipPaced = get('slipway', `paced-${RATE}`);
  aims.p99Paced = { aim: `< ${AIM.p99Ms} ms at ${RATE} req/s paced evenly (informational)`, value: slipPaced.p99Ms, met: slipPaced.p99Ms < AIM.p99Ms };
  const failures = rows.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);

  log('');
  log(table(rows));
  log('');
  log(`ratio slipway/baseline req/s (throughput): ${aims.ratio.value.toFixed(3)}  — aim >= ${AIM.ratio}: ${aims.ratio.met ? 'met' : 'NOT met'}`);
  log(
    `slipway p99 at ${RATE} req/s: ${slipRate.p99Ms.toFixed(2)} ms (${slipRate.reqPerSec} req/s achieved) — aim < ${AIM.p99Ms} ms: ${aims.p99AtRate.met ? 'met' : 'NOT met'}`,
  );
  log(`  (paced evenly, own open-loop client: ${slipPaced.p99Ms.toFixed(2)} ms — ${aims.p99Paced.met ? 'under' : 'over'} ${AIM.p99Ms} ms)`);
  if (failures > 0)
    log(`WARNING: ${failures} requests were not answered 2xx (non-2xx, connection errors or timeouts) — see statusCodes/errors/timeouts in the JSON`);
  const late = rows.filter((r) => r.signedLate > 0);
  if (late.length)
    log(
      `note: the pre-signed pool ran out in ${late.map((r) => `${r.server}/${r.mode} (${r.signedLate})`).join(', ')}; those requests were signed on the client's hot path`,
    );
  log('order: throughput baseline → slipway (each after its own warm-up); rate slipway → baseline; paced baseline → slipway');
  log(
    `note: Slipway keeps every build in SQLite, so each later run meets a bigger table; pushes already stored when each Slipway run began: ${rows
      .filter((r) => r.server === 'slipway')
      .map((r) => `${r.mode} ${r.pushesBefore}`)
      .join(', ')}`,
  );

  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `ingress-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const report = {
    bench: 'ingress',
    startedAt: startedAt.toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    config: { connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP, rate: RATE, bodyBytes: Buffer.byteLength(bodyFor('0'.repeat(40))) },
    order: 'throughput: baseline then slipway (each after its own warm-up); autocannon fixed rate: slipway then baseline; paced: baseline then slipway',
    latencySource:
      "autocannon runs: autocannon per-response hrtime, recorded in microseconds; paced runs: from each request's due time to the end of its response",
    checks,
    pools,
    rows,
    ratio: aims.ratio.value,
    aims,
  };
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  log(`results: ${file}`);
  return report;
}

try {
  await main();
  await cleanup();
} catch (err) {
  process.stderr.write(`bench/ingress failed: ${err?.stack ?? err}\n`);
  await cleanup();
  process.exit(1);
}
