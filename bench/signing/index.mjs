// bench signing: sign+push and verify latency against the local registry, and verification
// with a warm cache — each beside the registry round trip measured alone in the same run (a manifest
// HEAD and GET of the same repository), so the figures say what signing adds on top of the registry.
// Figures are reported, never asserted. Traffic: 127.0.0.1 only.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p) => join(ROOT, 'dist', 'src', p);
if (!existsSync(dist('signing/index.js'))) {
  console.error('bench signing: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { RegistryClient, MediaTypes, parseImageRef } = await import(dist('registry/index.js'));
const { generateKeyPair, signImage, verifyImage, VerificationCache } = await import(dist('signing/index.js'));

const REGISTRY = (process.env.BENCH_REGISTRY ?? '127.0.0.1:5000').replace(/^https?:\/\//, '');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const client = new RegistryClient({ host: REGISTRY });
const key = (await generateKeyPair('bench')).signingKey;
const trusted = [key.publicKey];

// One small image per round: signing always adds a signature to a fresh digest (the real case).
async function pushImage(repo) {
  const layer = randomBytes(512);
  const layerDigest = await client.uploadBlob(repo, layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
  const configDigest = await client.uploadBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: MediaTypes.ociLayer, digest: layerDigest, size: layer.length }],
    }),
  );
  return client.putManifest(repo, 'v1', manifest, MediaTypes.ociManifest);
}

const repo = `slipway-bench/signing-${randomBytes(4).toString('hex')}`;
const digests = [];
for (let i = 0; i < ROUNDS; i++) digests.push(await pushImage(repo));

const time = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const roundTrip = [];
const sign = [];
const verifyCold = [];
const verifyWarm = [];
const cache = new VerificationCache();
for (const digest of digests) {
  const ref = parseImageRef(`${REGISTRY}/${repo}@${digest}`);
  // Baseline: what any client pays to look at the image and read its manifest.
  roundTrip.push(
    await time(async () => {
      await client.headManifest(repo, digest);
      await client.getManifest(repo, digest);
    }),
  );
  sign.push(await time(() => signImage(client, ref, key)));
  verifyCold.push(await time(() => verifyImage(client, ref, trusted)));
  await verifyImage(client, ref, trusted, { cache });
  verifyWarm.push(await time(() => verifyImage(client, ref, trusted, { cache })));
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const row = (name, xs) => ({ name, p50: pct(xs, 50), p95: pct(xs, 95), ratioP50: pct(xs, 50) / pct(roundTrip, 50) });
const rows = [
  row('registry round trip (HEAD + GET manifest)', roundTrip),
  row('sign + push .sig', sign),
  row('verify (cold)', verifyCold),
  row('verify (warm cache)', verifyWarm),
];
console.log(`${ROUNDS} fresh digests in ${REGISTRY}/${repo}; ECDSA P-256 key`);
console.log('| measure | p50 ms | p95 ms | × round trip (p50) |');
console.log('|:--|--:|--:|--:|');
for (const r of rows) console.log(`| ${r.name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.ratioP50.toFixed(2)} |`);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(ROOT, 'bench', 'results', `signing-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify({ rounds: ROUNDS, rows }, null, 2),
);
