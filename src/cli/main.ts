import { Command, CommanderError, Option } from 'commander';
import { SlipwayError } from '../core/errors.js';
import { ApiError } from '../client/api-client.js';
import { buildCommand } from './commands/build.js';
import { buildsCommand } from './commands/builds.js';
import { injectCommand } from './commands/inject.js';
import { logsCommand } from './commands/logs.js';
import { policyLintCommand, policyTestCommand } from './commands/policy.js';
import { runProcess } from './commands/run.js';
import { keysGenerateCommand } from './commands/keys.js';
import { signCommand } from './commands/sign.js';
import { verifyCommand } from './commands/verify.js';
import { revisionsCommand } from './commands/revisions.js';
import { eventsCommand } from './commands/events.js';
import { routerCommand } from './commands/router.js';
import { rollbackCommand, trafficCommand } from './commands/traffic.js';
import { deployCommand } from './commands/deploy.js';
import { loginCommand } from './commands/login.js';
import { envCommand } from './commands/env.js';
import type { CliContext, GlobalOptions } from './context.js';

/** Exit codes (docs/architecture.md): 0 success, 1 failure, 2 usage error. */
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

  program
    .command('up')
    .description('run server, build workers and router in one process, on embedded defaults unless configured; with no app configured, deploy examples/hello')
    .option('--no-example', 'do not deploy examples/hello when no app is configured')
    .action((opts: { example?: boolean }) => run(() => runProcess('up', ctx, global(), opts))());
  program
    .command('server')
    .description('run the HTTP server (webhooks, API) only')
    .action(run(() => runProcess('server', ctx, global())));
  program
    .command('worker')
    .description('run build workers only')
    .action(run(() => runProcess('worker', ctx, global())));
  const collect = (value: string, previous: string[]) => [...previous, value];
  program
    .command('build')
    .description('build a local directory with BuildKit, push it, and print the image by digest')
    .argument('<dir>', 'build context directory')
    .requiredOption('--image <ref>', 'image repository and optional tag to push (e.g. 127.0.0.1:5000/slipway/hello:dev)')
    .option('-f, --file <path>', 'Dockerfile path within the context (default Dockerfile)')
    .option('--target <stage>', 'build this stage of a multi-stage Dockerfile')
    .option('--build-arg <name=value>', 'build argument (repeatable)', collect, [])
    .option('--label <name=value>', 'image label (repeatable)', collect, [])
    .option('--secret <id=ID,src=FILE|env=VAR>', 'build secret for RUN --mount=type=secret (repeatable)', collect, [])
    .option('--no-cache', 'do not use the build cache')
    .option('--no-push', 'build only; print the image config digest')
    .option('-q, --quiet', 'print only the result')
    .action((dir: string, opts) => run(() => buildCommand(ctx, global(), dir, opts))());
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
  program
    .command('inject')
    .description('inject the micro-enforcer into an image in a registry (no rebuild) and print the new image by digest')
    .argument('<image>', 'source image (registry/repo:tag or registry/repo@sha256:…)')
    .requiredOption('--to <ref>', 'where to push the result (registry/repo[:tag]; without a tag, by digest only)')
    .option('--mode <mode>', 'enforce (deny drifted executables) or audit (log them)', 'enforce')
    .option('--allow <path...>', 'extra absolute paths the enforcer allows (a trailing / allows a directory)')
    .option('--on-unsupported <action>', 'fallback (seccomp gate) or fail where the kernel lacks the Landlock exec gate', 'fallback')
    .option(
      '--report <which>',
      'denied execs the Landlock gate reports: no-cost (command, fd and memfd execs) or all (every one, a round trip per exec)',
      'no-cost',
    )
    .option('--enforcer <file>', 'enforcer binary (default: enforcer/build/enforcer, or $SLIPWAY_ENFORCER_BINARY)')
    .option('--label <name=value>', 'image label to set, e.g. dev.slipway.build=ID (repeatable)', collect, [])
    .option('--json', 'print the whole result as JSON')
    .action((image: string, opts) => run(() => injectCommand(ctx, global(), image, opts))());
  const keys = program.command('keys').description('cosign-compatible signing keys');
  keys
    .command('generate')
    .description(
      'write a new ECDSA P-256 key pair, cosign.key (encrypted, mode 0600) and cosign.pub, as cosign generate-key-pair does; the password comes from signing.passwordEnv (or a prompt on a terminal)',
    )
    .option('--dir <dir>', 'directory to write the pair into (default: the current directory)')
    .action((opts) => run(() => keysGenerateCommand(ctx, global(), opts))());
  program
    .command('sign')
    .description('sign an image by digest with a cosign key; the signature goes to sha256-<hex>.sig beside existing ones')
    .argument('<image@digest>', 'image by digest (registry/repo@sha256:…); tags are refused')
    .option('--key <file>', 'encrypted private key (default: signing.key); with cosign configured also a KMS URI')
    .option('--signature-repo <repo>', "repository on the same registry that holds the signatures (default: the image's)")
    .option('-a, --annotation <key=value>', "claim in the payload's optional section (repeatable)", collect, [])
    .option('--json', 'print JSON')
    .action((subject: string, opts) => run(() => signCommand(ctx, global(), subject, opts))());
  program
    .command('verify')
    .description("verify an image digest's cosign signatures against public keys; exit 0 when a trusted key verified one, 1 when none did")
    .argument('<image@digest>', 'image by digest (registry/repo@sha256:…)')
    .option('--key <file>', 'trusted public key (repeatable; default: signing.trustedKeys)', collect, [])
    .option('--signature-repo <repo>', "repository on the same registry that holds the signatures (default: the image's)")
    .option('--certificate-identity <id>', 'keyless: expected signer identity (needs signing.cosign.path)')
    .option('--certificate-oidc-issuer <url>', 'keyless: expected OIDC issuer (needs signing.cosign.path)')
    .option('--insecure-ignore-tlog', 'with cosign: do not require a transparency log entry')
    .option('--json', 'print JSON')
    .action((subject: string, opts) => run(() => verifyCommand(ctx, global(), subject, opts))());
  program
    .command('revisions')
    .description("list an app's revisions with their traffic and tags, newest first")
    .argument('<app>', 'app name')
    .option('--target <name>', 'serving target (default: the one the app is served on)')
    .option('--json', 'print JSON')
    .action((appName: string, opts) => run(() => revisionsCommand(ctx, global(), appName, opts))());
  program
    .command('events')
    .description("show what the enforcer denied or audited at run time in an app's revisions (as the containers reported it)")
    .argument('<app>', 'app name')
    .option('--revision <name>', 'only this revision')
    .option('-f, --follow', 'keep printing new decisions (polls every second) until interrupted')
    .option('--json', 'print JSON (one object per line with -f)')
    .action((appName: string, opts: { revision?: string; follow?: boolean; json?: boolean }) => run(() => eventsCommand(ctx, global(), appName, opts))());
  program
    .command('traffic')
    .description("set an app's traffic split and tags, as kn service update does (@latest names the newest ready revision)")
    .argument('<app>', 'app name')
    .option('--traffic <rev=percent>', 'revision (or @latest, or a tag) and its percent; percents sum to 100 (repeatable)', collect, [])
    .option('--tag <rev=tag>', 'give a revision (or @latest) a tag: http://<tag>-<app>.<domain> (repeatable)', collect, [])
    .option('--untag <tag>', 'remove a tag (repeatable)', collect, [])
    .option('--target <name>', 'serving target (default: the one the app is served on)')
    .action((appName: string, opts) => run(() => trafficCommand(ctx, global(), appName, opts))());
  program
    .command('rollback')
    .description("move all of an app's traffic to the ready revision before the one serving now (tags stay)")
    .argument('<app>', 'app name')
    .option('--target <name>', 'serving target (default: the one the app is served on)')
    .action((appName: string, opts) => run(() => rollbackCommand(ctx, global(), appName, opts))());
  program
    .command('env')
    .description(
      "list or change an app's environment variables and secrets; each change runs the image serving now as a new revision (no rebuild; the promote gate verifies it again)",
    )
    .argument('<app>', 'app name')
    .argument('[action]', 'set or unset (nothing: list)')
    .argument('[names...]', 'set: NAME=value… (with --secret: one NAME, its value read from stdin); unset: NAME…')
    .option('--secret', 'set a secret: stored encrypted, never shown, value read from stdin (never from the command line)')
    .option('--target <name>', "serving target (default: the target of the app's first branch)")
    .option('--json', 'print JSON')
    .action((appName: string, action: string | undefined, names: string[], opts) => run(() => envCommand(ctx, global(), appName, action, names, opts))());
  program
    .command('router')
    .description("run the serving targets' routers only (slipway up runs them too)")
    .action(run(() => routerCommand(ctx, global())));
  program
    .command('deploy')
    .description(
      "upload a directory as an app's build context (or promote an existing image by digest through the gates), follow the build, print the revision URL",
    )
    .argument('<dir|image@digest>', 'build context directory (.dockerignore is honoured), or registry/repo@sha256:… to promote')
    .requiredOption('--app <name>', 'app to deploy')
    .option('--target <name>', "serving target (default: the target of the app's first branch)")
    .option('--tag <tag>', 'serve the revision under this tag: http://<tag>-<app>.<domain>')
    .option('-f, --file <path>', "Dockerfile to use (sent as the context's Dockerfile)")
    .action((subject: string, opts) => run(() => deployCommand(ctx, global(), subject, opts))());
  program
    .command('login')
    .description("store the server URL and API token for client commands (in the user's config directory, mode 0600)")
    .option('--token <token>', 'API token (default: $SLIPWAY_TOKEN, else read from stdin)')
    .action((opts: { token?: string }) => run(() => loginCommand(ctx, global(), opts))());
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
