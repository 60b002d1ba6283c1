export {
  admit,
  previewDedupe,
  type AdmissionDeps,
  type AdmissionPlan,
  type Admitted,
  type BuildRequest,
  type CancelRequest,
  type ScopeCancel,
} from './admit.js';
