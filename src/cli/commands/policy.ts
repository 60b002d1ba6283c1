import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SlipwayError } from '../../core/errors.js';
import { imageFacts } from '../../pipeline/image-facts.js';
import { evaluateGate, GATES, loadPolicies, parseDockerfile, type Decision, type Gate, type PolicyInput, type PolicySet } from '../../policy/index.js';
import { parseImageRef } from '../../registry/index.js';
import { ApiError } from '../../client/api-client.js';
import { loadCliConfig, registryClient, type CliContext, type GlobalOptions } from '../context.js';
import { formatTable } from '../table.js';

export interface PolicyOptions {
  dir?: string;
}

function policySet(ctx: CliContext, global: GlobalOptions, opts: PolicyOptions): PolicySet {
  const dir = opts.dir ?? loadCliConfig(ctx, global).config.policies;
  return loadPolicies(resolve(ctx.cwd, dir), { required: true });
}

/** `slipway policy lint [--dir D]`: compiles every policy file; lists them, or every problem at once. */
export async function policyLintCommand(ctx: CliContext, global: GlobalOptions, opts: PolicyOptions): Promise<number> {
  const set = policySet(ctx, global, opts);
  const rows = set.policies.map((p) => [p.name, p.gate, p.mode, String(p.rules.length), p.source.replace(`${ctx.cwd}/`, '')]);
  ctx.stdout.write(`${formatTable(['POLICY', 'GATE', 'MODE', 'RULES', 'SOURCE'], rows)}\n`);
  ctx.stdout.write(`${set.policies.length} policies in ${set.files.length} files: ok\n`);
  return 0;
}

export interface PolicyTestOptions extends PolicyOptions {
  gate?: string;
  app?: string;
  target?: string;
  dockerfile?: string;
  json?: boolean;
}

const baseInput = (opts: PolicyTestOptions): PolicyInput => ({
  app: { name: opts.app ?? 'cli' },
  event: { forge: '', repo: '', ref: '', branch: '', tag: '', commit: '', author: '', fork: false, pullRequest: 0, trigger: 'cli' },
  target: { name: opts.target ?? 'local', kind: 'local' },
});

/**
 * `slipway policy test <image@digest|dir> [--gate G]`: what the policies decide for an image in a
 * registry (gates image and promote) or a directory with a Dockerfile (gates source and build). Exits 1
 * when an enforce rule fails, as the pipeline would reject the build.
 */
export async function policyTestCommand(ctx: CliContext, global: GlobalOptions, subject: string, opts: PolicyTestOptions): Promise<number> {
  if (opts.gate && !(GATES as readonly string[]).includes(opts.gate)) {
    throw new ApiError(`--gate ${opts.gate} is not a gate; use one of ${GATES.join(', ')}`, undefined, 'usage');
  }
  const set = policySet(ctx, global, opts);
  const input = baseInput(opts);
  const path = resolve(ctx.cwd, subject);
  let gates: Gate[];
  if (existsSync(path) && statSync(path).isDirectory()) {
    const file = join(path, opts.dockerfile ?? 'Dockerfile');
    if (!existsSync(file)) throw new SlipwayError('SLW_BAD_REQUEST', `${file} does not exist; pass --dockerfile with the Dockerfile's path inside ${subject}`);
    input.dockerfile = parseDockerfile(readFileSync(file, 'utf8'), { path: opts.dockerfile ?? 'Dockerfile' });
    gates = opts.gate ? [opts.gate as Gate] : ['source', 'build'];
    if (gates.some((g) => g === 'image' || g === 'promote'))
      throw new ApiError(`a directory has no image to judge at the ${opts.gate} gate; pass image@sha256:…`, undefined, 'usage');
  } else {
    const ref = parseImageRef(subject);
    input.image = await imageFacts(registryClient(ctx, global, ref.registry), ref);
    // `policy test` checks no signatures, so signature rules see an empty list: no key has verified anything here.
    input.signatures = { verified: [] };
    gates = opts.gate ? [opts.gate as Gate] : ['image'];
  }
  const decisions: Decision[] = [];
  let rejected = false;
  for (const gate of gates) {
    const result = evaluateGate(set, gate, { app: input.app.name, branch: input.event.branch, target: input.target.name }, input);
    decisions.push(...result.decisions);
    rejected ||= result.rejected;
  }
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({ rejected, decisions }, null, 2)}\n`);
  } else if (decisions.length === 0) {
    ctx.stdout.write(`no policy applies at the ${gates.join(', ')} gate${gates.length > 1 ? 's' : ''}\n`);
  } else {
    const mark = { allow: 'pass', deny: 'FAIL', warn: 'warn' } as const;
    const rows = decisions.map((d) => [d.gate, d.policy, String(d.ruleIndex), d.mode, mark[d.outcome], d.outcome === 'allow' ? '' : d.message]);
    ctx.stdout.write(`${formatTable(['GATE', 'POLICY', 'RULE', 'MODE', 'RESULT', 'MESSAGE'], rows)}\n`);
    const failed = decisions.filter((d) => d.outcome === 'deny').length;
    const warned = decisions.filter((d) => d.outcome === 'warn').length;
    ctx.stdout.write(
      rejected
        ? `rejected: ${failed} enforce rule${failed === 1 ? '' : 's'} failed${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}\n`
        : `passed${warned ? ` with ${warned} warning${warned === 1 ? '' : 's'}` : ''}\n`,
    );
  }
  return rejected ? 1 : 0;
}
