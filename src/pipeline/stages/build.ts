import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { changeRequestLabel } from '../../forges/terms.js';
import { BuildkitClient, buildImage, pruneToBudget, sharedKeyFor, type BuildStep } from '../../buildkit/index.js';
import type { SlipwayConfig } from '../../config/index.js';
import { isSlipwayError, SlipwayError } from '../../core/errors.js';
import type { BuildOutput } from '../../core/stage-outputs.js';
import { approves, formatNormalized, normalizeImageRef, parseDockerfile, type NormalizedRef } from '../../policy/index.js';
import { recordDecision, replaceBuildSteps, updateBuild } from '../../store/index.js';
import { RegistryClient } from '../../registry/index.js';
import type { Stage, StageContext } from '../context.js';
import { registryAuthOf } from './registry-for.js';

/** `<registry.url host>/<registry.namespace>/<app>` (docs/architecture.md: images go to <url>/<namespace>/<app>). */
export function imageRepository(config: SlipwayConfig, app: string): string {
  const host = new URL(config.registry.url).host;
  const namespace = config.registry.namespace.replace(/^\/+|\/+$/g, '');
  return [host, namespace, app].filter(Boolean).join('/');
}

/**
 * HEAD of the manifest by digest (OCI distribution spec, "Checking if content exists") with the registry's
 * credentials: the push is only believed once the registry answers for the digest.
 */
async function registryHas(ctx: StageContext, digest: string): Promise<boolean> {
  const url = new URL(ctx.config.registry.url);
  const client = new RegistryClient({ host: url.host, insecure: url.protocol === 'http:', auth: registryAuthOf(ctx), logger: ctx.logger });
  const repo = imageRepository(ctx.config, ctx.app.name).split('/').slice(1).join('/');
  return (await client.headManifest(repo, digest, { signal: ctx.signal })) !== undefined;
}

/** The app's context inside the checkout; never outside it (`context: ../..` would send the host's files). */
function contextDir(checkout: string, context: string): string {
  const dir = resolve(checkout, context);
  const rel = relative(checkout, dir);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new SlipwayError('SLW_BUILD_CONTEXT', `the app's context "${context}" leaves the repository; set apps[].context to a directory inside it`);
  }
  return dir;
}

/** A URL to the source for the OCI label: the clone URL without credentials, else the app's repo spec. */
function sourceUrl(cloneUrl: string, repoSpec: string): string {
  if (!/^https?:\/\//i.test(cloneUrl)) return repoSpec;
  const url = new URL(cloneUrl);
  url.username = '';
  url.password = '';
  return url.toString();
}

const stepRows = (steps: BuildStep[]) =>
  steps.map((s) => ({
    index: s.index,
    name: s.name,
    digest: s.digest,
    cached: s.cached,
    startedAt: s.startedAt,
    completedAt: s.completedAt,
    durationMs: s.durationMs,
    error: s.error,
  }));

/**
 * `build`: BuildKit builds the fetched commit with the app's Dockerfile, pushes it to
 * `<registry>/<namespace>/<app>` tagged with the short commit, and the build records the manifest
 * digest. Progress goes to the build's log as it happens and the steps to the store.
 */
export const buildStage: Stage<'build'> = {
  name: 'build',
  running: 'building',
  reached: 'built',

  async valid(ctx: StageContext, output: BuildOutput): Promise<boolean> {
    return registryHas(ctx, output.digest).catch(() => false);
  },

  async run(ctx: StageContext): Promise<BuildOutput> {
    const fetched = ctx.outputs.fetch;
    if (!fetched) throw new SlipwayError('SLW_INTERNAL', 'the build stage runs after fetch, which left no checkout');
    const { app, build, config } = ctx;
    const repository = imageRepository(config, app.name);
    const tag = build.commit.slice(0, 12);
    const dir = contextDir(fetched.dir, app.context);

    // Lines are stored one after another so the log keeps BuildKit's order whatever the database.
    let logged: Promise<void> = Promise.resolve();
    const log = (line: string, level: 'info' | 'warn' | 'error' = 'info') => {
      logged = logged.then(() => ctx.log(line, level)).catch(() => undefined);
    };

    const secrets = await buildSecrets(ctx);
    const guard = resolutionGuard(dir, app.dockerfile, join(app.context, app.dockerfile));
    const client = new BuildkitClient(config.buildkit);
    const registryAuth = registryAuthOf(ctx);
    // Hosts BuildKit asked credentials for: a refusal names where Slipway looked for each.
    const asked = new Set<string>();
    const registryCredentials = (host: string) => {
      asked.add(host);
      return registryAuth.credentialsFor(host);
    };
    try {
      await ctx.log(`building ${repository}:${tag} with BuildKit at ${client.where}`);
      const result = await buildImage(client, {
        contextDir: dir,
        dockerfile: app.dockerfile,
        repository,
        tag,
        sharedKey: sharedKeyFor(app.name, app.context),
        sessionName: `slipway/${app.name}`,
        secrets,
        registryCredentials,
        labels: {
          'org.opencontainers.image.source': sourceUrl(build.cloneUrl, app.repo),
          'org.opencontainers.image.revision': build.commit,
          'dev.slipway.build': build.id,
        },
        signal: ctx.signal,
        onImage: guard.check,
        onLine: log,
        onSteps: async (steps) => {
          await logged;
          await replaceBuildSteps(ctx.store.db, build.id, stepRows(steps));
        },
      });
      await logged;
      if (!(await registryHas(ctx, result.digest))) {
        throw new SlipwayError(
          'SLW_BUILD_PUSH',
          `the registry at ${config.registry.url} does not have ${result.reference} after the push; check its storage and logs`,
        );
      }
      await updateBuild(ctx.store.db, build.id, { digest: result.digest });
      await ctx.log(`pushed ${result.reference} (${result.tagged})`);
      await pruneCache(ctx, client);
      return { digest: result.digest, image: result.reference, tag };
    } catch (err) {
      if (guard.refusal) {
        await ctx.log(`✗ ${guard.refusal.message}`, 'error');
        await recordDecision(ctx.store.db, {
          buildId: build.id,
          gate: 'build',
          policy: RESOLUTION_POLICY,
          ruleIndex: 0,
          mode: 'enforce',
          outcome: 'deny',
          message: guard.refusal.message,
          subject: guard.refusal.image,
        });
      }
      if (isSlipwayError(err) && err.code === 'SLW_REGISTRY_AUTH' && asked.size && !/\(credentials from|\(no credentials for/.test(err.message)) {
        const where = [...asked].map((host) => `${host}: ${registryAuth.describe(host)}`).join('; ');
        throw new SlipwayError('SLW_REGISTRY_AUTH', `${err.message} (${where})`, { cause: err });
      }
      throw err;
    } finally {
      await logged;
      client.close();
    }
  },
};

/** The name decisions of the resolution check carry (it is Slipway's floor, not a policy file). */
const RESOLUTION_POLICY = 'slipway-resolved-images';

/**
 * The build gate judged the images it read in the Dockerfile; this checks, while BuildKit runs, that it
 * resolves no other. Anything else (a base image's ONBUILD, a BuildKit that reads the file differently
 * from the gate) stops the build as rejected before the image is pushed, naming the reference.
 */
function resolutionGuard(contextDir: string, dockerfile: string, shownPath: string) {
  let approved: NormalizedRef[] = [];
  try {
    const df = parseDockerfile(readFileSync(resolve(contextDir, dockerfile), 'utf8'), { path: shownPath });
    approved = df.images.map((i) => normalizeImageRef(i.ref)).filter((r): r is NormalizedRef => r !== undefined);
  } catch {
    // No readable Dockerfile: BuildKit reports that; nothing is approved meanwhile.
  }
  const guard: { refusal?: { message: string; image: string }; check: (ref: string, vertex: string) => void } = {
    check(ref, vertex) {
      const seen = normalizeImageRef(ref);
      if (seen && approves(approved, seen)) return;
      const image = seen ? formatNormalized(seen) : ref;
      const message = `rejected at the build gate: BuildKit resolved ${image} ("${vertex}"), an image the build gate did not see in ${shownPath} and so did not check; name every image in the Dockerfile itself (FROM, COPY --from, RUN --mount from) so the policies can judge it, and use base images without ONBUILD instructions that pull others`;
      guard.refusal = { message, image };
      throw new SlipwayError('SLW_POLICY_REJECTED', message, {
        details: { gate: 'build', failed: [{ policy: RESOLUTION_POLICY, rule: 0, message: `BuildKit resolved ${image}, which the build gate did not check` }] },
      });
    },
  };
  return guard;
}

/**
 * `apps[].buildSecrets`, read from the worker's environment, for `RUN --mount=type=secret` (BuildKit's
 * session serves them; they never land in a layer or the log). A fork's pull request runs code its author
 * controls, so it gets none, as CI services withhold secrets from forks; its Dockerfile sees the secret as
 * absent. A secret whose variable is not set fails the build, naming the variable: building without it
 * could ship an image that silently lacks what the secret provides.
 */
async function buildSecrets(ctx: StageContext): Promise<Map<string, Buffer>> {
  const wanted = Object.entries(ctx.app.buildSecrets);
  const secrets = new Map<string, Buffer>();
  if (wanted.length === 0) return secrets;
  if (ctx.build.fork) {
    await ctx.log(
      `build secrets withheld (${wanted.map(([id]) => id).join(', ')}): ${changeRequestLabel(ctx.build.forge, ctx.build.prNumber ?? '?')} comes from a fork`,
      'warn',
    );
    return secrets;
  }
  const missing: string[] = [];
  for (const [id, variable] of wanted) {
    const value = ctx.env?.[variable];
    if (value === undefined || value === '') missing.push(`${id} (${variable})`);
    else secrets.set(id, Buffer.from(value));
  }
  if (missing.length) {
    throw new SlipwayError(
      'SLW_BUILD_CONTEXT',
      `build secrets ${missing.join(', ')}: the environment variable is not set on this worker; set it where slipway worker runs (apps[].buildSecrets)`,
    );
  }
  await ctx.log(`build secrets: ${[...secrets.keys()].join(', ')}`);
  return secrets;
}

/** Keeps the build cache under `buildCache.budget`; a failed prune is worth a warning, not a failed build. */
async function pruneCache(ctx: StageContext, client: BuildkitClient): Promise<void> {
  try {
    const pruned = await pruneToBudget(client, ctx.config.buildCache.budget);
    if (pruned.removedRecords > 0) {
      await ctx.log(
        `build cache was ${Math.round(pruned.before / 2 ** 20)} MiB, over buildCache.budget: pruned ${pruned.removedRecords} records (${Math.round(pruned.removedBytes / 2 ** 20)} MiB)`,
      );
    }
  } catch (err) {
    await ctx.log(`build cache prune failed: ${(err as Error).message}`, 'warn');
  }
}
