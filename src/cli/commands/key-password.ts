import { SlipwayError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

/**
 * The signing key password: from the environment variable `signing.passwordEnv` names (default
 * SLIPWAY_KEY_PASSWORD; never a file), else typed at a terminal with echo off, as cosign prompts.
 * It is never printed, logged or put in an error.
 */
export async function keyPassword(ctx: CliContext, passwordEnv: string, opts: { confirm: boolean; purpose: string }): Promise<string> {
  const fromEnv = ctx.env[passwordEnv];
  if (fromEnv !== undefined) return fromEnv;
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new SlipwayError(
      'SLW_SIGNING_PASSWORD_MISSING',
      `no password for ${opts.purpose}: set the environment variable ${passwordEnv} (signing.passwordEnv names it), or run on a terminal to type it`,
    );
  }
  const first = await promptHidden(ctx, `Enter password for ${opts.purpose}: `);
  if (opts.confirm && (await promptHidden(ctx, `Enter password for ${opts.purpose} again: `)) !== first) {
    throw new SlipwayError('SLW_SIGNING_PASSWORD_MISSING', 'the two passwords typed differ; run the command again');
  }
  return first;
}

/** Reads one line from the terminal in raw mode, echoing nothing. Ctrl-C aborts. */
function promptHidden(ctx: CliContext, prompt: string): Promise<string> {
  const stdin = process.stdin;
  ctx.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      ctx.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new SlipwayError('SLW_SIGNING_PASSWORD_MISSING', 'password prompt interrupted'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
