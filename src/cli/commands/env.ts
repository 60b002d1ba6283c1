import { ApiError } from '../../client/api-client.js';
import type { EnvEntryView } from '../../server/plugins/app-env-api.js';
import type { BuildView } from '../../server/views.js';
import { apiClient, type CliContext, type GlobalOptions } from '../context.js';
import { age, formatTable } from '../table.js';

export interface EnvOptions {
  target?: string;
  secret?: boolean;
  json?: boolean;
}

interface EnvAnswer {
  app: string;
  target: string;
  env: EnvEntryView[];
  build?: BuildView | null;
  message?: string;
}

const usage = (message: string) => new ApiError(message, undefined, 'usage');

const path = (app: string, target: string | undefined) => `/api/v1/apps/${encodeURIComponent(app)}/env${target ? `?target=${encodeURIComponent(target)}` : ''}`;

/** All of stdin, less one trailing newline (what `echo` or a here-string adds). */
async function readAll(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * What `set` sends. Plain variables come as `NAME=value`. A secret's value never goes on the command line
 * (other users of the machine see argv in `ps`, and shells keep history): `--secret NAME` reads it from stdin.
 */
async function setBody(args: string[], secret: boolean, stdin: NodeJS.ReadableStream): Promise<Record<string, string>> {
  if (args.length === 0) throw usage(secret ? 'name the secret: slipway env APP set --secret NAME < file' : 'say what to set: slipway env APP set NAME=value…');
  if (secret) {
    if (args.length !== 1 || args[0]!.includes('='))
      throw usage(
        'a secret value is never taken from the command line (ps and shell history show it): name one secret and pass its value on stdin, e.g. printf %s "$VALUE" | slipway env APP set --secret NAME',
      );
    return { [args[0]!]: await readAll(stdin) };
  }
  return Object.fromEntries(
    args.map((arg) => {
      const at = arg.indexOf('=');
      if (at <= 0) throw usage(`${arg}: write it as NAME=value (a secret: --secret NAME, with its value on stdin)`);
      return [arg.slice(0, at), arg.slice(at + 1)];
    }),
  );
}

function printEnv(ctx: CliContext, answer: EnvAnswer): void {
  if (answer.env.length === 0) ctx.stdout.write(`app ${answer.app} has no environment variables on target ${answer.target}\n`);
  else {
    const rows = answer.env.map((e) => [
      e.name,
      e.secret ? '••••' : (e.value ?? ''),
      e.source,
      e.updatedAt ? `${age(e.updatedAt)} ago` : '-',
      e.updatedBy ?? '',
    ]);
    ctx.stdout.write(`${formatTable(['NAME', 'VALUE', 'SOURCE', 'CHANGED', 'BY'], rows)}\n`);
  }
  if (answer.message) ctx.stdout.write(`${answer.message}${answer.build ? `\nfollow it: slipway logs ${answer.build.id} -f` : ''}\n`);
}

/** `slipway env <app> [set NAME=value…|set --secret NAME|unset NAME…] [--target T] [--json]`. */
export async function envCommand(
  ctx: CliContext,
  global: GlobalOptions,
  app: string,
  action: string | undefined,
  args: string[],
  opts: EnvOptions,
): Promise<number> {
  const stdin = ctx.stdin ?? process.stdin;
  const client = apiClient(ctx, global);
  let answer: EnvAnswer;
  if (action === undefined) {
    if (opts.secret) throw usage('--secret goes with set');
    answer = (await (await client.request(path(app, opts.target))).json()) as EnvAnswer;
  } else if (action === 'set' || action === 'unset') {
    if (action === 'unset' && opts.secret) throw usage('--secret goes with set');
    if (action === 'unset' && args.length === 0) throw usage('say what to unset: slipway env APP unset NAME…');
    const body = action === 'set' ? { set: await setBody(args, opts.secret === true, stdin), ...(opts.secret ? { secret: true } : {}) } : { unset: args };
    const res = await client.request(path(app, undefined), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, ...(opts.target ? { target: opts.target } : {}) }),
    });
    answer = (await res.json()) as EnvAnswer;
  } else {
    throw usage(`unknown action "${action}": use set or unset, or nothing to list`);
  }
  if (opts.json) ctx.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else printEnv(ctx, answer);
  return 0;
}
