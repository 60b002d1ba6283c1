import { apiClient, type CliContext, type GlobalOptions } from '../context.js';
import { deployContext } from '../deploy-flow.js';

export interface DeployOptions {
  app: string;
  target?: string;
  tag?: string;
  file?: string;
}

/**
 * `slipway deploy <dir> --app NAME [--target T] [--tag TAG]` (issue 9): uploads the directory as the
 * app's build context, follows the build, prints its end state and, once serving made one, the
 * revision's URL. Exit 0 only when the build succeeded.
 */
export async function deployCommand(ctx: CliContext, global: GlobalOptions, dir: string, opts: DeployOptions): Promise<number> {
  const client = apiClient(ctx, global);
  const result = await deployContext(
    client,
    { app: opts.app, dir, dockerfile: opts.file, target: opts.target, tag: opts.tag },
    {
      packed: (files, bytes) => ctx.stderr.write(`packed ${files} files (${(bytes / 1024).toFixed(1)} KiB)\n`),
      queued: (build) => ctx.stderr.write(`build ${build.id} ${build.state} for ${build.app} → ${build.target}: ${build.url}\n`),
      log: (l) => ctx.stderr.write(`${l.stage ? `[${l.stage}] ` : ''}${l.level === 'info' ? '' : `${l.level.toUpperCase()} `}${l.line}\n`),
    },
  );
  const { build } = result;
  ctx.stdout.write(`build ${build.id}: ${build.state}${build.error ? ` (${build.error.code}: ${build.error.message})` : ''}\n`);
  if (result.revision) ctx.stdout.write(`revision ${result.revision}${result.url ? `: ${result.url}` : ''}\n`);
  else if (result.url) ctx.stdout.write(`${result.url}\n`);
  return result.succeeded ? 0 : 1;
}
