import { Command, CommanderError, Option } from 'commander';
import { SlipwayError } from '../core/errors.js';
import { ApiError } from './api-client.js';
import { buildsCommand } from './commands/builds.js';
import { logsCommand } from './commands/logs.js';
import { policyLintCommand, policyTestCommand } from './commands/policy.js';
import { runProcess } from './commands/run.js';
import type { CliContext, GlobalOptions } from './context.js';

/** Exit codes (DESIGN.md "CLI"): 0 success, 1 failure, 2 usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function buildProgram(ctx: CliContext, setExit: (code: number) => void): Command {
  const program = new Command('slipway')
    .description('Turns a git push into a signed, policy-checked, runtime-protected container revision that serves traffic.')
    .option('-c, --config <file>', 'config file (default: $SLIPWAY_CONFIG, else ./slipway.yaml if present, else embedded defaults)')
    .option('-s, --server <url>', 'Slipway server for client commands (default: $SLIPWAY_SERVER, else server.publicUrl)')
    .showHelpAfterError('(run slipway --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });

  const global = (): GlobalOptions => program.opts<GlobalOptions>();
  const run = (fn: () => Promise<number>) => async () => setExit(await fn());

  program.command('up').description('run server and build workers in one process, on embedded defaults unless configured').action(run(() => runProcess('up', ctx, global())));
  program.command('server').description('run the HTTP server (webhooks, API) only').action(run(() => runProcess('server', ctx, global())));
  program.command('worker').description('run build workers only').action(run(() => runProcess('worker', ctx, global())));
  program
    .command('builds')
    .description('list builds, newest first')
    .option('--app <name>', 'only this app')
    .option('--state <state>', 'only builds in this state')
    .option('--limit <n>', 'at most n builds (default 50)')
    .option('--json', 'print JSON')
    .action((opts) => run(() => buildsCommand(ctx, global(), opts))());
  program
    .command('logs')
    .description("print a build's log")
    .argument('<build-id>', 'build id (from slipway builds)')
    .addOption(new Option('-f, --follow', 'follow until the build ends; exit 1 unless it succeeded'))
    .action((id: string, opts: { follow?: boolean }) => run(() => logsCommand(ctx, global(), id, opts))());
  const policy = program.command('policy').description('check policy files and what they decide');
  policy
    .command('lint')
    .description('compile every policy file and report all problems')
    .option('--dir <dir>', 'policy directory (default: policies from the config)')
    .action((opts) => run(() => policyLintCommand(ctx, global(), opts))());
  policy
    .command('test')
    .description('show what the policies decide for image@digest (gate image) or a directory with a Dockerfile (gates source, build); exit 1 if rejected')
    .argument('<subject>', 'image reference (registry/repo@sha256:…) or directory')
    .option('--gate <gate>', 'only this gate: source, build, image or promote')
    .option('--dir <dir>', 'policy directory (default: policies from the config)')
    .option('--app <name>', 'app name the policies match on', 'cli')
    .option('--target <name>', 'target name the policies match on', 'local')
    .option('--dockerfile <path>', 'Dockerfile inside the directory', 'Dockerfile')
    .option('--json', 'print JSON')
    .action((subject: string, opts) => run(() => policyTestCommand(ctx, global(), subject, opts))());
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[], ctx: CliContext): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(ctx, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      ctx.stderr.write(`error: ${err.message}${err.code && err.code !== 'usage' ? ` (${err.code})` : ''}\n`);
      return err.code === 'usage' ? EXIT.usage : EXIT.failure;
    }
    if (err instanceof SlipwayError) {
      ctx.stderr.write(`error: ${err.message} (${err.code})\n`);
      return EXIT.failure;
    }
    ctx.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failure;
  }
}
