import { z } from 'zod';
import { GATES, isDigest, type Digest } from './types.js';

/**
 * What each pipeline stage leaves for the stages after it, stored as its checkpoint
 * (`build_stages.output`, JSON). One schema per stage: the stages return these types, later stages read
 * them by name with the compiler's help, and a stored checkpoint is read back through `parseStageOutput`
 * only. The promote stage's result is what the API and the CLI show of a build (`promotedRevision`).
 */

const digest = z.custom<Digest>((v) => typeof v === 'string' && isDigest(v), 'a sha256 digest');

/** A policy gate's stage (`policy-source`, `policy-build`, `policy-image`, `policy-promote`). */
const gateOutput = z.object({ gate: z.enum(GATES), decisions: z.number(), warnings: z.number() });

const fetchOutput = z.object({
  commit: z.string(),
  /** Where the source is checked out. */
  dir: z.string(),
});

const buildOutput = z.object({
  /** Manifest digest in the registry. */
  digest,
  /** `<registry host>/<namespace>/<app>@sha256:…`: what later stages sign and promote. */
  image: z.string(),
  /** The human tag pushed beside it (short commit). */
  tag: z.string(),
});

const injectOutput = z.object({
  /** The protected image: `<registry>/<namespace>/<app>@sha256:…` of the injected manifest. */
  image: z.string(),
  digest: z.string(),
  /** The image as built, before injection. */
  source: z.string(),
  executables: z.number(),
  enforcerVersion: z.string(),
});

const signOutput = z.object({ image: z.string(), signatureTag: z.string(), keyFingerprint: z.string() });

const promoteOutput = z.object({
  /** The build's revision; absent when the target deployed nothing (an older build, see `reason`). */
  revision: z.string().optional(),
  /** The app URL. */
  url: z.string(),
  /** The tag URL, for previews and `--tag` deploys. */
  tagUrl: z.string().optional(),
  /** Whether the build's revision serves the app (or its tag) now. */
  moved: z.boolean(),
  /** Why traffic did not move, or why nothing had to change. */
  reason: z.string().optional(),
});

const STAGE_OUTPUTS = {
  'policy-source': gateOutput,
  fetch: fetchOutput,
  'policy-build': gateOutput,
  build: buildOutput,
  'policy-image': gateOutput,
  inject: injectOutput,
  sign: signOutput,
  'policy-promote': gateOutput,
  promote: promoteOutput,
};

export type GateOutput = z.output<typeof gateOutput>;
export type FetchOutput = z.output<typeof fetchOutput>;
export type BuildOutput = z.output<typeof buildOutput>;
export type InjectOutput = z.output<typeof injectOutput>;
export type SignOutput = z.output<typeof signOutput>;
export type PromoteOutput = z.output<typeof promoteOutput>;

/** Stage name → what the stage returns. */
export type StageOutputs = { [N in keyof typeof STAGE_OUTPUTS]: z.output<(typeof STAGE_OUTPUTS)[N]> };
export type StageName = keyof StageOutputs;

/** What a stage named `N` returns: its entry in `StageOutputs`; anything for a stage outside it (a test's). */
export type OutputOf<N extends string> = N extends StageName ? StageOutputs[N] : unknown;

const isStageName = (name: string): name is StageName => Object.hasOwn(STAGE_OUTPUTS, name);

/**
 * A stored checkpoint read back: the stage's output, or undefined when it does not have the stage's shape
 * (a checkpoint an older Slipway wrote, or none): the stage then runs again.
 */
export function parseStageOutput<N extends string>(stage: N, stored: string | null): OutputOf<N> | undefined;
export function parseStageOutput(stage: string, stored: string | null): unknown {
  let json: unknown = null;
  try {
    if (stored !== null) json = JSON.parse(stored);
  } catch {
    return undefined;
  }
  if (!isStageName(stage)) return json;
  const parsed = STAGE_OUTPUTS[stage].safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** The revision a build's promote stage made and where it serves (the tag URL for previews). */
export interface PromotedRevision {
  name: string;
  url: string;
}

/** Of a build's stage checkpoints, the revision its promote stage made; undefined before (or without) one. */
export function promotedRevision(stages: readonly { stage: string; state: string; output: string | null }[]): PromotedRevision | undefined {
  const done = stages.find((s) => s.stage === 'promote' && s.state === 'done');
  const promoted = done ? parseStageOutput('promote', done.output) : undefined;
  if (!promoted?.revision) return undefined;
  return { name: promoted.revision, url: promoted.tagUrl ?? promoted.url };
}
