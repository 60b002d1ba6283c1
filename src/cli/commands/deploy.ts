import { apiClient, type CliContext, type GlobalOptions } from '../context.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { deployContext, deployImage, type DeployHooks } from '../../client/deploy-flow.js';

export interface DeployOptions {
  app: string;
  target?: string;
  tag?: string;
  file?: string;
}

/** `registry/repo@sha256:<64 hex>` that is not a directory here. */
const isImageByDigest = (subject: string, cwd: string) => /@sha256:[0-9a-f]{64}$/.test(subject) && !existsSync(resolve(cwd, subject));

/**
 * `slipway deploy <dir|image@digest> --app NAME [--target T] [--tag TAG]`: uploads the
 * directory as the app's build context — or asks for an existing image, by digest, to be promoted
 * through the image and promote gates — follows the build, prints its end state and, once serving made
 * one, the revision's URL. Exit 0 only when the build succeeded.
 */
export async function deployCommand(ctx: CliContext, global: GlobalOptions, subject: string, opts: DeployOptions): Promise<number> {
  const client = apiClient(ctx, global);
  const hooks: DeployHooks = {
    packed: (files, bytes) => ctx.stderr.write(`packed ${files} files (${(bytes / 1024).toFixed(1)} KiB)\n`),
    queued: (build) => ctx.stderr.write(`build ${build.id} ${build.state} for ${build.app} → ${build.target}: ${build.url}\n`),
    log: (l) => ctx.stderr.write(`${l.stage ? `[${l.stage}] ` : ''}${l.level === 'info' ? '' : `${l.level.toUpperCase()} `}${l.line}\n`),
  };
  const result = isImageByDigest(subject, ctx.cwd)
    ? await deployImage(client, { app: opts.app, image: subject, target: opts.target, tag: opts.tag }, hooks)
    : await deployContext(client, { app: opts.app, dir: subject, dockerfile: opts.file, target: opts.target, tag: opts.tag }, hooks);
  const { build } = result;
  ctx.stdout.write(`build ${build.id}: ${build.state}${build.error ? ` (${build.error.code}: ${build.error.message})` : ''}\n`);
  if (result.revision) ctx.stdout.write(`revision ${result.revision}${result.url ? `: ${result.url}` : ''}\n`);
  else if (result.url) ctx.stdout.write(`${result.url}\n`);
  return result.succeeded ? 0 : 1;
}
