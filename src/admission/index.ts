export { admit, previewDedupe, type AdmissionDeps, type AdmissionPlan, type Admitted, type BuildRequest, type CancelRequest } from './admit.js';
