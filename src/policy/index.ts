export { GATES, policyDocumentSchema, type Gate, type PolicyDocument } from './document.js';
export { loadPolicies, type CompiledPolicy, type PolicySet, type LoadPoliciesOptions } from './load.js';
export { evaluateGate, policyApplies, type Decision, type GateResult, type GateContext } from './evaluate.js';
export { compileRule, prepareInput, DEFAULT_COST_LIMIT, type CompiledRule, type PreparedInput } from './compile.js';
export { parseDockerfile, type ParseDockerfileOptions } from './dockerfile.js';
export { approves, formatNormalized, normalizeImageRef, type NormalizedRef } from './image-ref.js';
export {
  sampleInput,
  toCelValue,
  GATE_VARIABLES,
  type PolicyInput,
  type EventInput,
  type ImageInput,
  type DockerfileInput,
  type TargetInput,
  type SignaturesInput,
  type BaseImageInput,
  type DockerfileImage,
} from './inputs.js';
