import { prepareInput } from './compile.js';
import type { Gate } from './document.js';
import type { PolicyInput } from './inputs.js';
import type { CompiledPolicy, PolicySet } from './load.js';

export interface Decision {
  policy: string;
  source: string;
  gate: Gate;
  ruleIndex: number;
  mode: 'enforce' | 'audit';
  /** allow: the rule held; deny: an enforce rule failed; warn: an audit rule failed. */
  outcome: 'allow' | 'deny' | 'warn';
  /** The rule's message when it failed (with the evaluation error, if any); the expression when it held. */
  message: string;
}

export interface GateResult {
  gate: Gate;
  decisions: Decision[];
  /** True when any enforce rule failed: the build must stop. */
  rejected: boolean;
}

export interface GateContext {
  app: string;
  branch: string;
  target: string;
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

export function policyApplies(policy: CompiledPolicy, gate: Gate, ctx: GateContext): boolean {
  return (
    policy.gate === gate &&
    policy.match.apps.some((p) => glob(p, ctx.app)) &&
    policy.match.branches.some((p) => glob(p, ctx.branch)) &&
    policy.match.targets.some((p) => glob(p, ctx.target))
  );
}

/**
 * Evaluates every rule of every policy that applies at `gate`. A rule that cannot be evaluated (an
 * error, or over the cost limit) counts as failed: policy fails closed.
 */
export function evaluateGate(set: PolicySet, gate: Gate, ctx: GateContext, input: PolicyInput): GateResult {
  const decisions: Decision[] = [];
  // Converted once per gate, not per rule: conversion and sizing cost more than most rules do.
  const prepared = prepareInput(input);
  for (const policy of set.policies) {
    if (!policyApplies(policy, gate, ctx)) continue;
    for (const rule of policy.rules) {
      const outcome = rule.evaluate(prepared, set.costLimit);
      const held = outcome.ok && outcome.value;
      decisions.push({
        policy: policy.name,
        source: policy.source,
        gate,
        ruleIndex: rule.index,
        mode: policy.mode,
        outcome: held ? 'allow' : policy.mode === 'enforce' ? 'deny' : 'warn',
        message: held ? rule.expression : outcome.ok ? rule.message : `${rule.message} (rule could not be evaluated: ${outcome.error})`,
      });
    }
  }
  return { gate, decisions, rejected: decisions.some((d) => d.outcome === 'deny') };
}
