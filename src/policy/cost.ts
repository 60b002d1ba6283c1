import type { parse } from '@bufbuild/cel';

type Expr = ReturnType<typeof parse>['expr'];

/**
 * A static cost estimate of a CEL expression, as a polynomial in N (the largest collection the
 * evaluation can see): every AST node costs 1, and everything inside a comprehension (`all`, `exists`,
 * `map`, `filter`) runs once per element, so it costs N times more per level of nesting. `coefficients[d]`
 * counts the nodes at nesting depth d. Functions whose cost grows with their input (regex matching,
 * string search) count 4 to stay conservative.
 *
 * cel-es has no runtime cost tracking; estimating before evaluating (with the real N of the input) is how
 * no policy can hang a worker, in the spirit of cel-go's cost limits.
 */
export interface CostEstimate {
  coefficients: number[];
}

const EXPENSIVE_CALLS = new Set([
  'matches',
  'contains',
  'startsWith',
  'endsWith',
  'indexOf',
  'lastIndexOf',
  'replace',
  'split',
  'join',
  'lowerAscii',
  'upperAscii',
  'trim',
]);

export function estimateCost(root: Expr): CostEstimate {
  const coefficients: number[] = [];
  const add = (depth: number, cost: number) => {
    while (coefficients.length <= depth) coefficients.push(0);
    coefficients[depth]! += cost;
  };
  const walk = (expr: Expr | undefined, depth: number): void => {
    if (!expr) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'constExpr':
      case 'identExpr':
        add(depth, 1);
        return;
      case 'selectExpr':
        add(depth, 1);
        walk(kind.value.operand, depth);
        return;
      case 'callExpr':
        add(depth, EXPENSIVE_CALLS.has(kind.value.function) ? 4 : 1);
        walk(kind.value.target, depth);
        for (const arg of kind.value.args) walk(arg, depth);
        return;
      case 'listExpr':
        add(depth, 1);
        for (const e of kind.value.elements) walk(e, depth);
        return;
      case 'structExpr':
        add(depth, 1);
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value, depth);
          walk(entry.value, depth);
        }
        return;
      case 'comprehensionExpr': {
        const c = kind.value;
        add(depth, 1);
        walk(c.iterRange, depth);
        walk(c.accuInit, depth);
        // Condition, step and per-element work run once per element: one level deeper.
        walk(c.loopCondition, depth + 1);
        walk(c.loopStep, depth + 1);
        walk(c.result, depth);
        return;
      }
      default:
        add(depth, 1);
    }
  };
  walk(root, 0);
  return { coefficients };
}

/** The estimate's value for collections of at most `n` elements. */
export function costFor(estimate: CostEstimate, n: number): number {
  return estimate.coefficients.reduce((sum, c, d) => sum + c * Math.max(n, 1) ** d, 0);
}

/** The largest list, map or string length in an input (what N is for an evaluation). */
export function largestCollection(value: unknown, limit = 1_000_000): number {
  let largest = 0;
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      largest = Math.max(largest, v.length);
      if (largest < limit) for (const e of v) visit(e);
    } else if (v instanceof Map) {
      largest = Math.max(largest, v.size);
      for (const e of v.values()) visit(e);
    } else {
      const values = Object.values(v);
      largest = Math.max(largest, values.length);
      for (const e of values) visit(e);
    }
  };
  visit(value);
  return largest;
}
