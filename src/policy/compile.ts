import { celEnv, isCelError, parse, plan, CelScalar } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from '@bufbuild/re2';
import { costFor, estimateCost, largestCollection, type CostEstimate } from './cost.js';
import type { Gate } from './document.js';
import { sampleInput, toCelValue, type PolicyInput } from './inputs.js';

/** Largest estimated cost a rule may have for the input it is evaluated on (see cost.ts). */
export const DEFAULT_COST_LIMIT = 1_000_000;
/** Collection size a rule is judged by at load time: a rule too expensive for 100-element lists is refused outright. */
const LOAD_TIME_N = 100;

/**
 * cel-es compiles a `matches()` pattern on every call; rules use a handful of fixed patterns, so keep
 * each compiled once (same RE2 engine, same semantics). Bounded so hostile input cannot grow it.
 */
const compiledPatterns = new Map<string, { test(text: string): boolean }>();
const cachedRe2 = {
  compile(pattern: string) {
    let matcher = compiledPatterns.get(pattern);
    if (!matcher) {
      matcher = RE2JS.compile(pattern);
      if (compiledPatterns.size < 1000) compiledPatterns.set(pattern, matcher);
    }
    return matcher;
  },
};

const ENV = celEnv({
  re2: cachedRe2,
  variables: { app: CelScalar.DYN, event: CelScalar.DYN, target: CelScalar.DYN, dockerfile: CelScalar.DYN, image: CelScalar.DYN, signatures: CelScalar.DYN },
  funcs: strings,
});

export type RuleOutcome = { ok: true; value: boolean } | { ok: false; error: string };

/** An input converted for CEL once, with the size of its largest collection (N for the cost estimate). */
export interface PreparedInput {
  cel: Record<string, unknown>;
  n: number;
}

export function prepareInput(input: PolicyInput): PreparedInput {
  return { cel: toCelValue(input) as Record<string, unknown>, n: largestCollection(input) };
}

export interface CompiledRule {
  index: number;
  expression: string;
  message: string;
  cost: CostEstimate;
  evaluate(input: PreparedInput, costLimit?: number): RuleOutcome;
}

/** CEL reports positions against `<input>`; say `expression` so users know where to look. */
const tidy = (message: string) => message.replace(/<input>:/g, 'expression:');

/**
 * Compiles one rule once, at start: parse (syntax errors with line:column), estimate its cost, and
 * evaluate it on the gate's sample input so that unknown fields, type mismatches and non-boolean
 * results are found now, with the file and rule named, instead of during a build.
 */
export function compileRule(expression: string, message: string, index: number, gate: Gate, costLimit = DEFAULT_COST_LIMIT): CompiledRule {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expression);
  } catch (err) {
    throw new Error(`CEL syntax error at ${tidy((err as Error).message)}`);
  }
  const cost = estimateCost(parsed.expr);
  const loadCost = costFor(cost, LOAD_TIME_N);
  if (loadCost > costLimit) {
    throw new Error(
      `expression is too expensive: estimated cost ${Math.round(loadCost)} on 100-element lists exceeds the limit of ${costLimit}; avoid nesting comprehensions (all/exists/map/filter) inside each other`,
    );
  }
  const program = plan(ENV, parsed);
  const evaluate = (input: PreparedInput, limit = costLimit): RuleOutcome => {
    const { cel: celInput, n } = input;
    const estimated = costFor(cost, n);
    if (estimated > limit)
      return {
        ok: false,
        error: `rule exceeds the cost limit (estimated ${Math.round(estimated)} > ${limit} for collections of ${n} elements); it was not evaluated`,
      };
    let result: unknown;
    try {
      result = program(celInput as never);
    } catch (err) {
      return { ok: false, error: tidy((err as Error).message) };
    }
    if (isCelError(result)) return { ok: false, error: tidy(result.message) };
    if (typeof result !== 'boolean')
      return { ok: false, error: `the expression gives ${typeof result === 'bigint' ? 'an int' : typeof result}, not a boolean` };
    return { ok: true, value: result };
  };
  const sample = evaluate(prepareInput(sampleInput(gate)), Number.POSITIVE_INFINITY);
  if (!sample.ok) {
    const unresolved = /unresolved attribute|no such key|field not found/.test(sample.error);
    throw new Error(`${sample.error}${unresolved ? ` (the ${gate} gate offers: ${Object.keys(sampleInput(gate)).join(', ')}; see policies/README.md)` : ''}`);
  }
  return { index, expression, message, cost, evaluate };
}
