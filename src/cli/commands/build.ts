import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BuildkitClient, buildImage, sharedKeyFor } from '../../buildkit/index.js';
import { ApiError } from '../../client/api-client.js';
import { loadCliConfig, type CliContext, type GlobalOptions } from '../context.js';

export interface BuildCommandOptions {
  image: string;
  file?: string;
  target?: string;
  buildArg?: string[];
  secret?: string[];
  label?: string[];
  /** Commander's `--no-cache` sets `cache: false`. */
  cache?: boolean;
  /** `--no-push` sets `push: false`. */
  push?: boolean;
  quiet?: boolean;
}

const usage = (message: string) => new ApiError(message, undefined, 'usage');

/** `NAME=VALUE` pairs (repeatable options) into a record. */
function pairs(values: readonly string[] | undefined, option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw usage(`${option} ${v}: write it as NAME=VALUE`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** `--secret id=ID,src=FILE` or `--secret id=ID,env=VAR` (docker build's syntax). */
function secrets(values: readonly string[] | undefined, env: CliContext['env']): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const v of values ?? []) {
    const fields = Object.fromEntries(v.split(',').map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
    const id = fields.id;
    if (!id) throw usage(`--secret ${v}: give an id, as id=ID,src=FILE or id=ID,env=VAR`);
    if (fields.src ?? fields.source) {
      out.set(id, readFileSync(fields.src ?? fields.source!));
    } else {
      const name = fields.env ?? id;
      const value = env[name];
      if (value === undefined) throw usage(`--secret ${v}: environment variable ${name} is not set`);
      out.set(id, Buffer.from(value));
    }
  }
  return out;
}

/** `repo[:tag]` → repository and tag; a digest is not something one builds to. */
export function splitImageRef(ref: string): { repository: string; tag: string } {
  if (ref.includes('@')) throw usage(`--image ${ref}: name a repository (and tag), not a digest`);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref, tag: 'latest' };
}

/**
 * `slipway build <dir> --image REF`: builds a local directory with BuildKit (the configured
 * `buildkit` address), pushes it, and prints the image by digest (`REPO@sha256:…`) on stdout; progress
 * goes to stderr. Ctrl-C cancels the build, which stops its running steps.
 */
export async function buildCommand(ctx: CliContext, global: GlobalOptions, dir: string, opts: BuildCommandOptions): Promise<number> {
  const { config } = loadCliConfig(ctx, global);
  const { repository, tag } = splitImageRef(opts.image);
  const contextDir = resolve(ctx.cwd, dir);
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  const client = new BuildkitClient(config.buildkit);
  try {
    const result = await buildImage(client, {
      contextDir,
      dockerfile: opts.file,
      target: opts.target,
      buildArgs: pairs(opts.buildArg, '--build-arg'),
      labels: pairs(opts.label, '--label'),
      secrets: secrets(opts.secret, ctx.env),
      repository,
      tag,
      push: opts.push !== false,
      noCache: opts.cache === false,
      sharedKey: sharedKeyFor('cli', contextDir),
      sessionName: `slipway build ${contextDir}`,
      signal: controller.signal,
      onLine: opts.quiet ? undefined : (line) => ctx.stderr.write(`${line}\n`),
    });
    ctx.stderr.write(`${result.pushed ? 'pushed' : 'built'} ${result.tagged} in ${(result.durationMs / 1000).toFixed(1)}s\n`);
    ctx.stdout.write(`${result.pushed ? result.reference : result.digest}\n`);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    client.close();
  }
}
