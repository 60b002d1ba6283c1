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
 * Build states (docs/architecture.md "Build states"). `fetched`, `built` and `signed` are where the pipeline rests while
 * later stages (promote) do not exist yet: a build ends in the last state its stages
 * reached, and never pretends to have run a stage.
 */
export const ACTIVE_BUILD_STATES = ['queued', 'fetching', 'building', 'checking', 'injecting', 'signing', 'promoting'] as const;
export const TERMINAL_BUILD_STATES = ['fetched', 'built', 'signed', 'ready', 'failed', 'rejected', 'canceled'] as const;
export const BUILD_STATES = [...ACTIVE_BUILD_STATES, ...TERMINAL_BUILD_STATES] as const;
export type BuildState = (typeof BUILD_STATES)[number];

export function isTerminalState(state: BuildState): boolean {
  return (TERMINAL_BUILD_STATES as readonly string[]).includes(state);
}

/** What caused a build. */
export type BuildTrigger = 'push' | 'tag' | 'change_request' | 'upload' | 'git' | 'cli' | 'image';
