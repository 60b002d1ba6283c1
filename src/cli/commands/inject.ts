import { injectEnforcer, type RuntimePolicy } from '../../injection/index.js';
import { parseImageRef } from '../../registry/index.js';
import { ApiError } from '../../client/api-client.js';
import { registryClient, type CliContext, type GlobalOptions } from '../context.js';

export interface InjectCommandOptions {
  to: string;
  mode?: string;
  allow?: string[];
  onUnsupported?: string;
  report?: string;
  enforcer?: string;
  label?: string[];
  json?: boolean;
}

const usage = (message: string) => new ApiError(message, undefined, 'usage');

/**
 * `slipway inject <image> --to <ref>`: injects the micro-enforcer into an image in a registry (no
 * rebuild) and prints the new image by digest; `--json` prints the whole result.
 */
export async function injectCommand(ctx: CliContext, global: GlobalOptions, image: string, opts: InjectCommandOptions): Promise<number> {
  if (opts.mode !== undefined && opts.mode !== 'enforce' && opts.mode !== 'audit') throw usage(`--mode ${opts.mode}: use enforce or audit`);
  if (opts.onUnsupported !== undefined && opts.onUnsupported !== 'fallback' && opts.onUnsupported !== 'fail')
    throw usage(`--on-unsupported ${opts.onUnsupported}: use fallback or fail`);
  if (opts.report !== undefined && opts.report !== 'no-cost' && opts.report !== 'all') throw usage(`--report ${opts.report}: use no-cost or all`);
  const labels: Record<string, string> = {};
  for (const l of opts.label ?? []) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw usage(`--label ${l}: write it as NAME=VALUE`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  const source = parseImageRef(image);
  const target = parseImageRef(opts.to);
  const client = registryClient(ctx, global, source.registry);
  const policy: Partial<RuntimePolicy> = { allow: opts.allow ?? [] };
  if (opts.mode) policy.mode = opts.mode as RuntimePolicy['mode'];
  if (opts.onUnsupported) policy.onUnsupported = opts.onUnsupported as RuntimePolicy['onUnsupported'];
  if (opts.report) policy.report = opts.report as NonNullable<RuntimePolicy['report']>;
  const result = await injectEnforcer(client, source, target, {
    policy,
    labels,
    ...(target.registry !== source.registry ? { targetClient: registryClient(ctx, global, target.registry) } : {}),
    ...(opts.enforcer ? { enforcerPath: opts.enforcer } : ctx.env.SLIPWAY_ENFORCER_BINARY ? { enforcerPath: ctx.env.SLIPWAY_ENFORCER_BINARY } : {}),
  });
  ctx.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.ref}\n`);
  return 0;
}
