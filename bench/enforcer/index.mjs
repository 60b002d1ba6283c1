// bench enforcer (issue 6): (1) injection time (registry level: read the image, stream its layers, append
// Slipway's layer, push) beside what a rebuild costs: `docker build` of `FROM image` + `COPY` of the same
// three files with --no-cache, then `docker push`; for a small image and one with a large extra layer.
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
if (!existsSync(dist('enforcer/index.js'))) {
  console.error('bench enforcer: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { injectEnforcer, readTar } = await import(dist('enforcer/index.js'));
const { RegistryClient } = await import(dist('registry/index.js'));

const REGISTRY = (process.env.BENCH_REGISTRY ?? '127.0.0.1:5000').replace(/^https?:\/\//, '');
const BASE = process.env.BENCH_BASE_IMAGE ?? `${REGISTRY}/slipway/busybox:latest`;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 64);
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

/** The images to inject: the base, and the base plus one large layer (random bytes: gzip cannot shrink it). */
async function sourceImages() {
  if (!existsSync(join(ROOT, 'enforcer', 'build', 'enforcer'))) execFileSync('make', ['-C', join(ROOT, 'enforcer'), 'build/enforcer'], { stdio: 'inherit' });
  const out = [{ name: 'busybox', ref: BASE }];
  if (BIG_MB > 0) {
    const dir = join(work, 'big');
    mkdirSync(dir);
    writeFileSync(join(dir, 'blob.bin'), randomBytes(BIG_MB * 1024 * 1024));
    chmodSync(join(dir, 'blob.bin'), 0o755);
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${BASE}\nCOPY blob.bin /opt/blob.bin\n`);
    const tag = `${repo}:big`;
    await docker(['build', '--network=none', '-q', '-t', tag, dir]);
    await docker(['push', '-q', tag]);
    tags.push(tag);
    out.push({ name: `busybox + ${BIG_MB} MB layer`, ref: tag });
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
try {
  for (const image of await sourceImages()) {
    const inject = [];
    let injected;
    for (let i = 0; i < ROUNDS; i++) {
      // A fresh target repository each round, so no blob is already there (the cross-repository mount
      // of the source layers is part of what injection does).
      const target = `${repo}-inj${i}:latest`;
      inject.push(await timed(async () => (injected = await injectEnforcer(client, image.ref, target))));
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
      injectMs: median(inject),
      buildMs: median(build),
      buildPushMs: median(buildPush),
    };
    row.ratioVsBuildPush = row.injectMs / row.buildPushMs;
    row.ratioVsBuild = row.injectMs / row.buildMs;
    report.injection.push({ ...row, samples: { inject, build, buildPush } });
  }
  console.log('\ninjection (median of %d) | inject | docker build | build + push | inject ÷ (build+push) | inject ÷ build', ROUNDS);
  for (const r of report.injection) {
    console.log(`${r.image.padEnd(26)} | ${ms(r.injectMs).padStart(7)} | ${ms(r.buildMs).padStart(8)} | ${ms(r.buildPushMs).padStart(8)} | ${r.ratioVsBuildPush.toFixed(2)}× ${r.ratioVsBuildPush <= 0.3 ? '(aim ≤ 0.3 met)' : '(aim ≤ 0.3 missed)'} | ${r.ratioVsBuild.toFixed(2)}×`);
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
