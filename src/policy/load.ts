import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SlipwayError } from '../core/errors.js';
import { compileRule, DEFAULT_COST_LIMIT, type CompiledRule } from './compile.js';
import { policyDocumentSchema, type Gate, type PolicyDocument } from './document.js';

export interface CompiledPolicy {
  name: string;
  description: string | undefined;
  /** `policies/non-root.yaml#1` (1-based document). */
  source: string;
  gate: Gate;
  mode: 'enforce' | 'audit';
  match: PolicyDocument['spec']['match'];
  rules: CompiledRule[];
}

export interface PolicySet {
  policies: CompiledPolicy[];
  files: string[];
  costLimit: number;
}

export interface LoadPoliciesOptions {
  /** When false (the embedded default directory), a missing directory is an empty set, not an error. */
  required?: boolean;
  costLimit?: number;
}

/**
 * Reads every `*.yaml`/`*.yml` in `dir` (one or more documents each), validates and compiles them.
 * All problems are reported at once, each with file, document and rule index; a bad policy fails
 * start-up rather than letting builds through unchecked.
 */
export function loadPolicies(dir: string, options: LoadPoliciesOptions = {}): PolicySet {
  const costLimit = options.costLimit ?? DEFAULT_COST_LIMIT;
  if (!existsSync(dir)) {
    if (options.required)
      throw new SlipwayError('SLW_POLICY_INVALID', `policy directory ${dir} does not exist; create it or point policies at the right directory`);
    return { policies: [], files: [], costLimit };
  }
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
  const problems: string[] = [];
  const policies: CompiledPolicy[] = [];
  const names = new Map<string, string>();
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true });
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((doc, i) => {
      const where = `${file} document ${i + 1}`;
      if (doc.errors.length > 0) {
        problems.push(`${where}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return; // an empty document (trailing ---)
      const parsed = policyDocumentSchema.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push(`${where}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
        return;
      }
      const policy = parsed.data;
      const other = names.get(policy.metadata.name);
      if (other) problems.push(`${where}: policy name "${policy.metadata.name}" is also used by ${other}; names must be unique`);
      names.set(policy.metadata.name, where);
      const rules: CompiledRule[] = [];
      policy.spec.rules.forEach((rule, index) => {
        try {
          rules.push(compileRule(rule.expression, rule.message, index, policy.spec.gate, costLimit));
        } catch (err) {
          problems.push(`${where} (policy ${policy.metadata.name}) rule ${index}: ${(err as Error).message}`);
        }
      });
      policies.push({
        name: policy.metadata.name,
        description: policy.metadata.description,
        source: `${file}#${i + 1}`,
        gate: policy.spec.gate,
        mode: policy.spec.mode,
        match: policy.spec.match,
        rules,
      });
    });
  }
  if (problems.length > 0) {
    throw new SlipwayError(
      'SLW_POLICY_INVALID',
      `policies have ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { details: { problems } },
    );
  }
  return { policies, files, costLimit };
}
