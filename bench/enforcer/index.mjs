// bench enforcer: (1) injection time (registry level: read the image, stream its layers, append
// Slipway's layer, push) beside what a rebuild costs: `docker build` of `FROM image` + `COPY` of the same
// three files with --no-cache, then `docker push` (Docker has the base image locally, as a CI runner would);
// for a small image, one with a large extra layer, and for each a new app image on top of it (a fresh small
// layer per round: the pipeline's usual case, where only the app layer changed). Injection is measured
// without the layer scan cache (the old path), cold (empty cache: every layer read and its scan written) and,
// for the app images, warm (cache seeded by injecting the base image first, so only the app layer is read).
// (2) the enforcer's own exec and syscall loops (enforcer/bench/exec-loop.sh: bare, enforcer, tini).
// Figures are reported, never asserted. Traffic: 127.0.0.1 only.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => join(ROOT, 'dist', 'src', p);
if (!existsSync(dist('injection/index.js'))) {
  console.error('bench enforcer: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { injectEnforcer, readTar, LayerScanCache } = await import(dist('injection/index.js'));
const { RegistryClient } = await import(dist('registry/index.js'));

const REGISTRY = (process.env.BENCH_REGISTRY ?? '127.0.0.1:5000').replace(/^https?:\/\//, '');
const BASE = process.env.BENCH_BASE_IMAGE ?? `${REGISTRY}/slipway/busybox:latest`;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 64);
const APP_KB = Number(process.env.BENCH_APP_KB ?? 512);
const LOOPS = process.env.BENCH_ENFORCER_LOOPS !== '0';
const DOCKER = process.env.SLIPWAY_DOCKER_CLI ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
const run = promisify(execFile);
const docker = (args) => run(DOCKER, args, { env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 64 * 1024 * 1024 });

const client = new RegistryClient({ host: REGISTRY });
const repo = `${REGISTRY}/slipway-bench/enforcer-${randomBytes(4).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'slipway-bench-enforcer-'));
const tags = [];
let stopping = false;
async function cleanup() {
  rmSync(work, { recursive: true, force: true });
  if (tags.length) await docker(['rmi', '-f', ...tags]).catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void cleanup().finally(() => process.exit(130));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;

async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function buildAndPush(name, files, from) {
  const dir = join(work, name);
  mkdirSync(dir);
  const copies = [];
  for (const [file, data] of Object.entries(files)) {
    writeFileSync(join(dir, file), data);
    chmodSync(join(dir, file), 0o755);
    copies.push(`COPY ${file} /opt/${file}\n`);
  }
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${from}\n${copies.join('')}`);
  const tag = `${repo}:${name}`;
  await docker(['build', '--network=none', '-q', '-t', tag, dir]);
  await docker(['push', '-q', tag]);
  tags.push(tag);
  return tag;
}

/**
 * The images to inject: the base, and the base plus one large layer (random bytes: gzip cannot shrink
 * it); after each, ROUNDS app images on top of it, each with its own fresh APP_KB layer, so that a warm
 * injection never finds the app layer in the cache.
 */
async function sourceImages() {
  if (!existsSync(join(ROOT, 'enforcer', 'build', 'enforcer'))) execFileSync('make', ['-C', join(ROOT, 'enforcer'), 'build/enforcer'], { stdio: 'inherit' });
  const bases = [{ name: 'busybox', ref: BASE }];
  if (BIG_MB > 0) bases.push({ name: `busybox + ${BIG_MB} MB layer`, ref: await buildAndPush('big', { 'blob.bin': randomBytes(BIG_MB * 1024 * 1024) }, BASE) });
  const out = [];
  for (const base of bases) {
    out.push({ ...base, refs: Array(ROUNDS).fill(base.ref) });
    const refs = [];
    for (let i = 0; i < ROUNDS; i++) refs.push(await buildAndPush(`${base.ref === BASE ? 'small' : 'big'}-app${i}`, { 'app.bin': randomBytes(APP_KB * 1024) }, base.ref));
    out.push({ name: `${base.name} + new ${APP_KB} KB app layer`, ref: refs[0], refs, parent: base.ref });
  }
  return out;
}

/** The rebuild to compare with: the same three files COPYed onto `FROM image`, no cache, then pushed. */
async function rebuildContext(injectedRef) {
  const dir = join(work, `ctx-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(dir, '.slipway'), { recursive: true });
  const repoName = injectedRef.slice(REGISTRY.length + 1, injectedRef.indexOf('@'));
  const manifest = (await client.getManifest(repoName, injectedRef.slice(injectedRef.indexOf('@') + 1))).json;
  const blob = await client.getBlobBytes(repoName, manifest.layers.at(-1).digest);
  for await (const entry of readTar([gunzipSync(blob)])) {
    if (entry.type !== 'file') continue;
    const chunks = [];
    for await (const c of entry.body) chunks.push(c);
    writeFileSync(join(dir, entry.name), Buffer.concat(chunks));
    chmodSync(join(dir, entry.name), entry.mode);
  }
  return dir;
}

const report = { registry: REGISTRY, rounds: ROUNDS, injection: [], loops: undefined };
let caches = 0;
const freshCacheDir = () => join(work, `cache-${caches++}`);
try {
  for (const image of await sourceImages()) {
    // A fresh target repository for every injection, so no blob is already there (the cross-repository
    // mount of the source layers is part of what injection does).
    let n = 0;
    const inject = (ref, scanCache) => injectEnforcer(client, ref, `${repo}-inj${n++}:latest`, scanCache ? { scanCache } : {});
    const uncached = [];
    const cold = [];
    const warm = [];
    let injected;
    for (let i = 0; i < ROUNDS; i++) {
      uncached.push(await timed(async () => (injected = await inject(image.refs[i]))));
      cold.push(await timed(() => inject(image.refs[i], new LayerScanCache({ dir: freshCacheDir() }))));
      if (image.parent) {
        // Seeded by the base image's injection (untimed), then read from disk by a new instance, as the
        // pipeline's inject stage does for each build: the base layers are replayed, the app layer is read.
        const dir = freshCacheDir();
        await inject(image.parent, new LayerScanCache({ dir }));
        let result;
        warm.push(await timed(async () => (result = await inject(image.refs[i], new LayerScanCache({ dir })))));
        if (result.digest !== (await inject(image.refs[i])).digest) throw new Error(`warm injection of ${image.refs[i]} differs from a full scan`);
        image.cachedLayers = `${result.images[0].cachedLayers}/${result.images[0].layers - 1}`;
      }
    }
    const ctx = await rebuildContext(injected.ref);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${image.ref}\nCOPY .slipway/ /.slipway/\nENTRYPOINT ["/.slipway/enforcer","--"]\n`);
    const build = [];
    const buildPush = [];
    for (let i = 0; i < ROUNDS; i++) {
      const tag = `${repo}-rebuild${i}:latest`;
      tags.push(tag);
      const b = await timed(() => docker(['build', '--no-cache', '--network=none', '-q', '-t', tag, ctx]));
      const p = await timed(() => docker(['push', '-q', tag]));
      build.push(b);
      buildPush.push(b + p);
    }
    const row = {
      image: image.name,
      executables: injected.images[0].executables,
      cachedLayers: image.cachedLayers,
      uncachedMs: median(uncached),
      coldMs: median(cold),
      warmMs: warm.length ? median(warm) : undefined,
      buildMs: median(build),
      buildPushMs: median(buildPush),
    };
    row.uncachedVsBuildPush = row.uncachedMs / row.buildPushMs;
    row.coldVsBuildPush = row.coldMs / row.buildPushMs;
    row.warmVsBuildPush = row.warmMs === undefined ? undefined : row.warmMs / row.buildPushMs;
    row.coldVsBuild = row.coldMs / row.buildMs;
    report.injection.push({ ...row, samples: { uncached, cold, warm, build, buildPush } });
  }
  const aim = (r) => (r === undefined ? '' : r <= 0.3 ? ' (aim ≤ 0.3 met)' : ' (aim ≤ 0.3 missed)');
  const ratio = (r) => (r === undefined ? '—' : `${r.toFixed(2)}×`);
  console.log('\ninjection, median of %d; ratios against docker build + push of the same files', ROUNDS);
  console.log(`${'image'.padEnd(46)} | no cache | cold    | warm (cached layers) | build   | build+push | no cache ÷ | cold ÷                   | warm ÷`);
  for (const r of report.injection) {
    const warm = r.warmMs === undefined ? '—' : `${ms(r.warmMs)} (${r.cachedLayers})`;
    console.log(`${r.image.padEnd(46)} | ${ms(r.uncachedMs).padStart(8)} | ${ms(r.coldMs).padStart(7)} | ${warm.padStart(20)} | ${ms(r.buildMs).padStart(7)} | ${ms(r.buildPushMs).padStart(10)} | ${ratio(r.uncachedVsBuildPush).padStart(10)} | ${(ratio(r.coldVsBuildPush) + aim(r.coldVsBuildPush)).padEnd(24)} | ${ratio(r.warmVsBuildPush)}${aim(r.warmVsBuildPush)}`);
  }

  if (LOOPS) {
    // The C enforcer's own bench: exec loop (bare / enforcer / tini) and syscall loops, medians of ROUNDS.
    console.log('\nenforcer/bench/exec-loop.sh (make -C enforcer bench):');
    const { stdout } = await run('make', ['-s', '-C', join(ROOT, 'enforcer'), 'bench'], { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ROUNDS: String(ROUNDS) } });
    process.stdout.write(stdout);
    report.loops = stdout;
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', `enforcer-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
} finally {
  await cleanup();
}
