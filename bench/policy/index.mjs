// bench policy: (1) evaluations per second of the default policy set on one image's inputs,
// beside a hand-written JavaScript function making the same checks (the floor for any evaluator);
// (2) manifest + config fetch latency from the local registry with Slipway's client, beside curl doing
// the same two GETs on one connection (curl's own time_total, so its process start is not counted).
// Figures are reported, never asserted. Traffic: 127.0.0.1 only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => join(ROOT, 'dist', 'src', p);
if (!existsSync(dist('policy/index.js'))) {
  console.error('bench policy: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { loadPolicies, evaluateGate } = await import(dist('policy/index.js'));
const { RegistryClient, MediaTypes } = await import(dist('registry/index.js'));
const { imageFacts } = await import(dist('pipeline/image-facts.js'));
const { parseImageRef } = await import(dist('registry/index.js'));

const REGISTRY = (process.env.BENCH_REGISTRY ?? '127.0.0.1:5000').replace(/^https?:\/\//, '');
const SECONDS = Number(process.env.BENCH_DURATION ?? 3);
const FETCHES = Number(process.env.BENCH_FETCHES ?? 200);

// One real image in the registry: what the image gate would judge.
const client = new RegistryClient({ host: REGISTRY });
const repo = `slipway-bench/policy-${randomBytes(4).toString('hex')}`;
const layer = randomBytes(4096);
const layerDigest = await client.uploadBlob(repo, layer);
const config = Buffer.from(
  JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: new Date().toISOString(),
    config: {
      User: 'app',
      Env: ['PATH=/bin', 'PORT=8080', 'LANG=C.UTF-8'],
      Labels: {
        'org.opencontainers.image.source': 'https://github.com/octo/hello',
        'org.opencontainers.image.revision': 'a'.repeat(40),
        'dev.slipway.enforcer.version': '0.1.0',
      },
    },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
  }),
);
const configDigest = await client.uploadBlob(repo, config);
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length },
    layers: [{ mediaType: MediaTypes.ociLayer, digest: layerDigest, size: layer.length }],
  }),
);
const digest = await client.putManifest(repo, 'v1', manifest, MediaTypes.ociManifest);
const ref = parseImageRef(`${REGISTRY}/${repo}@${digest}`);

const set = loadPolicies(join(ROOT, 'policies'), { required: true });
const image = await imageFacts(client, ref);
const input = {
  app: { name: 'hello' },
  event: {
    forge: 'github',
    repo: 'octo/hello',
    ref: 'refs/heads/main',
    branch: 'main',
    tag: '',
    commit: 'a'.repeat(40),
    author: 'octocat',
    fork: false,
    pullRequest: 0,
    trigger: 'push',
  },
  target: { name: 'local', kind: 'local' },
  dockerfile: {
    path: 'Dockerfile',
    stages: [{ name: '', base: '127.0.0.1:5000/slipway/busybox:latest' }],
    baseImages: [
      {
        ref: '127.0.0.1:5000/slipway/busybox:latest',
        registry: '127.0.0.1:5000',
        repository: 'slipway/busybox',
        tag: 'latest',
        digest: '',
        scratch: false,
        stage: '',
      },
    ],
    users: ['1000'],
    exposedPorts: [],
  },
  image,
  signatures: { verified: ['cosign.pub'] },
};
const ctx = { app: 'hello', branch: 'main', target: 'local' };
const GATES = ['source', 'build', 'image', 'promote'];
const rules = GATES.reduce((n, g) => n + evaluateGate(set, g, ctx, input).decisions.length, 0);

// The same checks written by hand: what the CEL rules of policies/*.yaml say, without an evaluator.
const SECRET = /^[A-Za-z0-9_]*(password|passwd|secret|token|api_?key|private_?key)[A-Za-z0-9_]*=/i;
function handWritten(i) {
  const u = i.image.config.User;
  const out = [];
  out.push(i.dockerfile.baseImages.every((b) => b.scratch || b.stage !== '' || ['127.0.0.1:5000', 'localhost:5000'].includes(b.registry)));
  out.push(i.dockerfile.baseImages.every((b) => b.scratch || b.stage !== '' || b.digest !== '' || b.tag !== 'latest'));
  out.push(u !== '' && !['root', '0', '0:0'].includes(u) && !u.startsWith('root:') && !u.startsWith('0:'));
  out.push(i.image.size < 2147483648);
  out.push(!i.image.config.Env.some((e) => SECRET.test(e)));
  out.push('org.opencontainers.image.source' in i.image.labels && 'org.opencontainers.image.revision' in i.image.labels);
  out.push(
    i.image.byDigest,
    i.signatures.verified.length > 0,
    'dev.slipway.enforcer.version' in i.image.labels,
    ['127.0.0.1:5000', 'localhost:5000'].includes(i.image.registry),
  );
  return out;
}

function rate(fn) {
  for (let i = 0; i < 1000; i++) fn(); // warm-up
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return n / ((performance.now() - start) / 1000);
}
const evalSet = () => {
  for (const g of GATES) evaluateGate(set, g, ctx, input);
};
const slipwayRate = rate(evalSet);
const baselineRate = rate(() => handWritten(input));

// Fetch latency: our client (manifest GET verified + config GET verified) vs curl's two GETs.
const url = (p) => `http://${REGISTRY}/v2/${repo}${p}`;
const accept = MediaTypes.ociManifest;
const ours = [];
const curls = [];
for (let i = 0; i < FETCHES; i++) {
  const t = performance.now();
  const m = await client.getManifest(repo, digest);
  await client.getBlobBytes(repo, m.json.config.digest);
  ours.push(performance.now() - t);
  const out = execFileSync(
    'curl',
    [
      '-s',
      '-H',
      `Accept: ${accept}`,
      '-o',
      '/dev/null',
      url(`/manifests/${digest}`),
      '-o',
      '/dev/null',
      url(`/blobs/${configDigest}`),
      '-w',
      '%{time_total}\n',
    ],
    { encoding: 'utf8' },
  );
  curls.push(
    out
      .trim()
      .split('\n')
      .reduce((s, l) => s + Number(l) * 1000, 0),
  );
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
await client.deleteManifest(repo, digest).catch(() => undefined);

const report = {
  policies: set.policies.length,
  rulesPerSetEvaluation: rules,
  setEvaluationsPerSecond: Math.round(slipwayRate),
  ruleEvaluationsPerSecond: Math.round(slipwayRate * rules),
  handWrittenPerSecond: Math.round(baselineRate),
  ratioVsHandWritten: slipwayRate / baselineRate,
  fetch: {
    iterations: FETCHES,
    slipway: { p50: pct(ours, 50), p99: pct(ours, 99) },
    curl: { p50: pct(curls, 50), p99: pct(curls, 99) },
    ratioP50: pct(ours, 50) / pct(curls, 50),
  },
};
const f = (n, d = 2) => n.toFixed(d);
console.log(`default policy set: ${report.policies} policies, ${rules} rules over 4 gates, on one image's inputs (${SECONDS} s each)`);
console.log(
  `  whole set (all 4 gates)   ${report.setEvaluationsPerSecond.toLocaleString('en')} /s   (${report.ruleEvaluationsPerSecond.toLocaleString('en')} rule evaluations/s)`,
);
console.log(`  hand-written JS baseline  ${report.handWrittenPerSecond.toLocaleString('en')} /s   ratio ${f(report.ratioVsHandWritten, 3)}`);
console.log(`  aim: ≥ 10,000 evaluations/s of the set → ${report.setEvaluationsPerSecond >= 10_000 ? 'met' : 'NOT met'}`);
console.log(`manifest + config fetch from ${REGISTRY}, ${FETCHES} times each, alternating`);
console.log(`  slipway client   p50 ${f(report.fetch.slipway.p50)} ms   p99 ${f(report.fetch.slipway.p99)} ms   (both verified against their digests)`);
console.log(`  curl (2 GETs)    p50 ${f(report.fetch.curl.p50)} ms   p99 ${f(report.fetch.curl.p99)} ms   (curl's time_total)`);
console.log(`  ratio p50 slipway/curl ${f(report.fetch.ratioP50)}`);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', `policy-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
