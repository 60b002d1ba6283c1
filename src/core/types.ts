/**
 * Domain types shared by every module. This file imports nothing internal: it is the bottom of the
 * dependency graph (docs/architecture.md "Modules").
 */

/** `sha256:<64 hex>`; content addresses are the only way images are promoted or signed. */
export type Digest = `sha256:${string}`;

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** An RFC 1123 DNS label starting with a letter: app names and tags, which become host names (`<tag>-<app>.<domain>`). */
export const DNS_LABEL_RE = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

/**
 * Build states (docs/architecture.md "Build states"). A build ends in the end state of the last stage that
 * reached one, and never pretends to have run a stage: `ready` once promoted, `built` when the stages after
 * the build were skipped (a fork's pull request before a maintainer approved it), `signed` for a pipeline
 * that ends at signing.
 */
export const ACTIVE_BUILD_STATES = ['queued', 'fetching', 'building', 'checking', 'injecting', 'signing', 'promoting'] as const;
/** The end states stages reach: the build did all it was asked. */
export const REACHED_BUILD_STATES = ['built', 'signed', 'ready'] as const;
/**
 * `fetched`: no stage reaches it (a build always builds what it fetched), but an older Slipway ended builds
 * so and their rows still hold it: it reads as an end state that succeeded.
 */
const RETIRED_BUILD_STATES = ['fetched'] as const;
/** A build that did all it was asked: `slipway logs -f` and `slipway deploy` exit 0. */
export const SUCCESS_BUILD_STATES = [...RETIRED_BUILD_STATES, ...REACHED_BUILD_STATES] as const;
export const FAILURE_BUILD_STATES = ['failed', 'rejected', 'canceled'] as const;
export const TERMINAL_BUILD_STATES = [...SUCCESS_BUILD_STATES, ...FAILURE_BUILD_STATES] as const;
export const BUILD_STATES = [...ACTIVE_BUILD_STATES, ...TERMINAL_BUILD_STATES] as const;
export type BuildState = (typeof BUILD_STATES)[number];
export type ReachedBuildState = (typeof REACHED_BUILD_STATES)[number];

export function isTerminalState(state: BuildState): boolean {
  return (TERMINAL_BUILD_STATES as readonly string[]).includes(state);
}

/** Whether a build (its state as stored or as the API says it) ended having done all it was asked. */
export function isSuccessState(state: string): boolean {
  return (SUCCESS_BUILD_STATES as readonly string[]).includes(state);
}

/** Whether a build ended without doing what it was asked: failed, rejected by a policy, or canceled. */
export function isFailureState(state: string): boolean {
  return (FAILURE_BUILD_STATES as readonly string[]).includes(state);
}

/** The policy gates, in the order a build meets them. */
export const GATES = ['source', 'build', 'image', 'promote'] as const;
export type Gate = (typeof GATES)[number];

/** What caused a build. */
export type BuildTrigger = 'push' | 'tag' | 'change_request' | 'upload' | 'git' | 'cli' | 'image';
