import { z } from 'zod';
import { GATES } from '../core/types.js';

export { GATES, type Gate } from '../core/types.js';

const globList = z.array(z.string().min(1)).min(1).default(['*']);

/** One policy document: `apiVersion: slipway.dev/v1`, `kind: ImagePolicy`. */
export const policyDocumentSchema = z.strictObject({
  apiVersion: z.literal('slipway.dev/v1', { error: 'apiVersion must be slipway.dev/v1' }),
  kind: z.literal('ImagePolicy', { error: 'kind must be ImagePolicy' }),
  metadata: z.strictObject({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'name must be lower-case letters, digits and dashes'),
    description: z.string().optional(),
  }),
  spec: z.strictObject({
    gate: z.enum(GATES, { error: `gate must be one of ${GATES.join(', ')}` }),
    match: z.strictObject({ apps: globList, branches: globList, targets: globList }).prefault({}).describe('Which builds the policy applies to; globs with *.'),
    mode: z.enum(['enforce', 'audit']).default('enforce'),
    rules: z
      .array(
        z.strictObject({
          expression: z.string().min(1, 'expression is empty'),
          message: z.string().min(1, 'message is empty: say what is wrong and how to fix it'),
        }),
      )
      .min(1, 'a policy needs at least one rule'),
  }),
});

export type PolicyDocument = z.output<typeof policyDocumentSchema>;
