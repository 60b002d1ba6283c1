import { isSuccessState } from '../../core/types.js';
import { apiClient, type CliContext, type GlobalOptions } from '../context.js';

/**
 * `slipway logs <id> [-f]`. With -f it follows until the build ends and exits 0 only when the build
 * succeeded, so scripts can wait on a build.
 */
export async function logsCommand(ctx: CliContext, global: GlobalOptions, id: string, opts: { follow?: boolean }): Promise<number> {
  const client = apiClient(ctx, global);
  if (!opts.follow) {
    await client.getBuild(id); // a clear 404 before an empty log
    ctx.stdout.write(await client.logsText(id));
    return 0;
  }
  const state = await client.followLogs(id, (l) => {
    ctx.stdout.write(`${l.stage ? `[${l.stage}] ` : ''}${l.level === 'info' ? '' : `${l.level.toUpperCase()} `}${l.line}\n`);
  });
  ctx.stderr.write(`build ${id}: ${state}\n`);
  return isSuccessState(state) ? 0 : 1;
}
