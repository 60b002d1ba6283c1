import { existsSync, readFileSync } from 'node:fs';
import { parseScope } from '../../core/scope.js';
import { join, resolve } from 'node:path';
import { SlipwayError } from '../../core/errors.js';
import type { GateOutput } from '../../core/stage-outputs.js';
import { evaluateGate, parseDockerfile, type Decision, type Gate, type PolicyInput } from '../../policy/index.js';
import { verifyImage } from '../../signing/index.js';
import { LABELS as ENFORCER_LABELS } from '../../injection/index.js';
import { recordDecision, type Build } from '../../store/index.js';
import type { Stage, StageContext } from '../context.js';
import { imageFacts } from '../image-facts.js';
import { awaitingApproval } from './fork-approval.js';
import { stageImage } from './given-image.js';
import { registryFor } from './registry-for.js';

const ENFORCER_LABEL = ENFORCER_LABELS.version;

/** What every gate knows about the build: the app, the event that caused it, and the target. */
export function baseInput(ctx: StageContext): PolicyInput {
  const b: Build = ctx.build;
  const scope = parseScope(b.scope);
  return {
    app: { name: b.app },
    event: {
      forge: b.forge ?? '',
      repo: b.repo ?? '',
      ref: b.ref,
      branch: scope?.kind === 'branch' ? scope.branch : scope?.kind === 'change-request' ? b.ref : '',
      tag: scope?.kind === 'tag' ? scope.tag : '',
      commit: b.commit,
      author: b.sender ?? '',
      fork: b.fork,
      pullRequest: b.prNumber ?? 0,
      trigger: b.trigger,
    },
    target: { name: b.target, kind: ctx.config.targets[b.target]?.kind ?? 'unknown' },
  };
}

const MARK = { allow: '✓', deny: '✗', warn: '⚠' } as const;

/**
 * Runs the policies of one gate, records every decision (audit rows, build log), and stops the
 * build as `rejected` — listing every failed enforce rule — when any fails. Audit failures are
 * warnings in the log and the decisions, never a stop.
 */
async function judge(ctx: StageContext, gate: Gate, input: PolicyInput, subject: string): Promise<GateOutput> {
  const b = ctx.build;
  const result = evaluateGate(ctx.policies, gate, { app: b.app, branch: input.event.branch, target: b.target }, input);
  for (const d of result.decisions) {
    await recordDecision(ctx.store.db, {
      buildId: b.id,
      gate,
      policy: d.policy,
      ruleIndex: d.ruleIndex,
      mode: d.mode,
      outcome: d.outcome,
      message: d.message,
      subject,
    });
    await ctx.log(
      `${MARK[d.outcome]} ${d.policy} rule ${d.ruleIndex} (${d.mode})${d.outcome === 'allow' ? '' : `: ${d.message}`}`,
      d.outcome === 'deny' ? 'error' : d.outcome === 'warn' ? 'warn' : 'info',
    );
  }
  const denied = result.decisions.filter((d) => d.outcome === 'deny');
  const warnings = result.decisions.filter((d) => d.outcome === 'warn').length;
  await ctx.log(
    `${gate} gate: ${result.decisions.length} rule${result.decisions.length === 1 ? '' : 's'} checked, ${denied.length} failed, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  if (result.rejected) {
    const list = denied.map((d: Decision) => `${d.policy} rule ${d.ruleIndex}: ${d.message}`).join('; ');
    throw new SlipwayError('SLW_POLICY_REJECTED', `rejected at the ${gate} gate by ${denied.length} rule${denied.length === 1 ? '' : 's'}: ${list}`, {
      details: { gate, failed: denied.map((d) => ({ policy: d.policy, rule: d.ruleIndex, message: d.message })) },
    });
  }
  return { gate, decisions: result.decisions.length, warnings };
}

/** `source` gate: before anything is fetched (e.g. fork pull requests never reach production targets). */
export const sourceGateStage: Stage<'policy-source'> = {
  name: 'policy-source',
  running: 'checking',
  run: (ctx) => judge(ctx, 'source', baseInput(ctx), ctx.build.commit),
};

function dockerfileInput(ctx: StageContext) {
  const fetched = ctx.outputs.fetch;
  if (!fetched) return undefined;
  const path = join(ctx.app.context, ctx.app.dockerfile);
  const file = resolve(fetched.dir, path);
  if (!existsSync(file)) return undefined;
  return parseDockerfile(readFileSync(file, 'utf8'), { path });
}

/** `build` gate: after the Dockerfile is read, before BuildKit runs (base images, users, ports). */
export const buildGateStage: Stage<'policy-build'> = {
  name: 'policy-build',
  running: 'checking',
  async run(ctx) {
    const dockerfile = dockerfileInput(ctx);
    if (!dockerfile) {
      await ctx.log(`no ${join(ctx.app.context, ctx.app.dockerfile)} in the commit: nothing for the build gate to read`, 'warn');
      return { gate: 'build', decisions: 0, warnings: 0 };
    }
    return judge(ctx, 'build', { ...baseInput(ctx), dockerfile }, ctx.build.commit);
  },
};

/** `image` gate: after the push, on the manifest and config the registry holds for the digest. */
export const imageGateStage: Stage<'policy-image'> = {
  name: 'policy-image',
  running: 'checking',
  async run(ctx) {
    const { ref, client } = registryFor(ctx, stageImage(ctx, 'build').image);
    const image = await imageFacts(client, ref, ctx.signal);
    const dockerfile = dockerfileInput(ctx);
    return judge(ctx, 'image', { ...baseInput(ctx), ...(dockerfile ? { dockerfile } : {}), image }, image.digest);
  },
};

/**
 * `promote` gate: before any target changes, on the protected image by digest, with the signatures
 * that trusted keys verify (none verified → the default policy refuses; fail closed).
 */
export const promoteGateStage: Stage<'policy-promote'> = {
  name: 'policy-promote',
  running: 'checking',
  // Nothing to promote before a fork is approved: its image is not signed (sign.ts).
  skip: awaitingApproval,
  async run(ctx) {
    const { ref, client } = registryFor(ctx, stageImage(ctx, 'inject').image);
    const image = await imageFacts(client, ref, ctx.signal);
    const verification = await verifyImage(client, ref, ctx.signing?.trusted ?? [], { signal: ctx.signal });
    await ctx.log(
      verification.verified
        ? `signature verified by ${verification.keyIds.join(', ')}`
        : `no signature verified: ${verification.reasons.join('; ') || 'no trusted keys'}`,
      verification.verified ? 'info' : 'warn',
    );
    const decided = await judge(ctx, 'promote', { ...baseInput(ctx), image, signatures: { verified: verification.keyIds } }, image.digest);
    // A floor no policy file can lower (fail closed: an empty or missing policies/ directory must not let
    // an unsigned or unprotected image serve traffic).
    if (!verification.verified) {
      throw new SlipwayError(
        'SLW_POLICY_REJECTED',
        `rejected at the promote gate: no signature by a trusted key verified for ${image.digest} (${verification.reasons.join('; ') || 'no trusted keys: set signing.trustedKeys'}); Slipway promotes only images signed by a key in signing.trustedKeys`,
        {
          details: { gate: 'promote', failed: [{ policy: 'slipway-floor', rule: 0, message: 'signed by a trusted key' }] },
        },
      );
    }
    if (!(ENFORCER_LABEL in image.labels)) {
      throw new SlipwayError(
        'SLW_POLICY_REJECTED',
        `rejected at the promote gate: ${image.digest} does not carry Slipway's micro-enforcer (no ${ENFORCER_LABEL} label); promote images that went through the inject stage`,
        {
          details: { gate: 'promote', failed: [{ policy: 'slipway-floor', rule: 1, message: 'carries the micro-enforcer' }] },
        },
      );
    }
    return decided;
  },
};
