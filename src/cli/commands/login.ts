import { createInterface } from 'node:readline/promises';
import { ApiError } from '../../client/api-client.js';
import { loadCliConfig, type CliContext, type GlobalOptions } from '../context.js';
import { writeCredentials } from '../credentials.js';

/**
 * `slipway login [--server URL] [--token T]`: stores the server and its API token in the
 * user's config directory (mode 0600), where client commands find them. The token comes from
 * --token, else SLIPWAY_TOKEN, else a line on stdin (so it need not sit in shell history).
 */
export async function loginCommand(
  ctx: CliContext,
  global: GlobalOptions,
  opts: { token?: string },
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
  const server = global.server ?? ctx.env.SLIPWAY_SERVER ?? loadCliConfig(ctx, global).config.server.publicUrl;
  let token = opts.token ?? ctx.env.SLIPWAY_TOKEN;
  if (!token) {
    ctx.stderr.write(`token for ${server}: `);
    const lines = createInterface({ input: stdin, terminal: false });
    for await (const line of lines) {
      token = line.trim();
      break;
    }
    lines.close();
  }
  if (!token) throw new ApiError('no token given: pass --token, set SLIPWAY_TOKEN or type it on stdin', undefined, 'usage');
  const path = await writeCredentials(ctx.env, { server, token });
  ctx.stdout.write(`credentials for ${server} saved to ${path}\n`);
  return 0;
}
