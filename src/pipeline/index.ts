export { runBuild, type RunBuildOptions, type RunBuildResult } from './runner.js';
export type { PipelineDeps, Stage, StageContext } from './context.js';
export { DEFAULT_STAGES } from './stages/index.js';
export { fetchStage, fetchUrl, type FetchOutput } from './stages/fetch.js';
export { buildStage, imageRepository, type BuildOutput } from './stages/build.js';
export { injectStage, type InjectOutput } from './stages/inject.js';
export { signStage, type SignOutput } from './stages/sign.js';
export { loadSigningMaterial, type SigningMaterial } from './signing-material.js';
export { promoteStage, previewTag, type PromoteOutput } from './stages/promote.js';
