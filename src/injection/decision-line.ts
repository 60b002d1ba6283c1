import { z } from 'zod';

/**
 * The enforcer's runtime decision lines (enforcer/README.md "Decision log"): ONE stderr line each,
 * `slipway-enforcer: {"v":1,…}`. This module turns one line into a typed decision, or undefined.
 *
 * Trust: the app shares the container's stderr with the enforcer. A line the app prints itself is
 * byte for byte indistinguishable from one the enforcer wrote, so a decision is a claim the app could
 * have forged (to bury real ones in noise, or to invent ones that never happened). Decisions are kept
 * for display and counting only: nothing may be decided on them (no revision is stopped, no build
 * judged, no allow-list derived). The parser is strict so that a forged line is at worst a well-formed
 * row with capped, display-safe strings.
 */

export const DECISION_PREFIX = 'slipway-enforcer: {';
/** Longer lines are ignored whole: the enforcer's own lines stay far below (paths are < 4096 bytes but escaped ones are rare). */
export const MAX_DECISION_LINE_BYTES = 4096;

const RULE_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
// RFC 3339 UTC as the enforcer writes it; fractions of any length so a future precision still parses.
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const text = (max: number) => z.string().min(1).max(max);

const decisionSchema = z.object({
  // New fields may be added within v1 (README): unknown keys are dropped, not refused.
  v: z.literal(1),
  ts: z
    .string()
    .regex(TS_RE)
    .refine((s) => !Number.isNaN(Date.parse(s))),
  decision: z.enum(['denied', 'audited', 'allowed']),
  gate: z.enum(['landlock', 'seccomp']),
  syscall: z.enum(['execve', 'execveat', 'memfd_create']),
  path: text(4096),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  pid: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
  uid: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .nullable(),
  parent: z.string().max(64).nullable(),
  // Rules are stable identifiers; an unknown one (a newer enforcer) is kept as long as it looks like one.
  rule: z.string().regex(RULE_RE),
  detail: z.string().max(512),
});

export type DecisionKind = 'denied' | 'audited' | 'allowed';

export interface EnforcerDecision {
  /** The enforcer's clock, as claimed by the line (the Engine's timestamp is what Slipway stores). */
  ts: string;
  decision: DecisionKind;
  gate: 'landlock' | 'seccomp';
  syscall: 'execve' | 'execveat' | 'memfd_create';
  /** Display-safe: control and bidi characters escaped, at most 1024 characters. */
  path: string;
  sha256: string | null;
  pid: number;
  uid: number | null;
  parent: string | null;
  rule: string;
  detail: string;
}

/** Stored and shown path length; longer paths keep their start and say they were cut. */
export const MAX_STORED_PATH = 1024;

// C0, DEL, C1, and the bidirectional overrides/isolates a terminal or a forge page would honour.
// eslint-disable-next-line no-control-regex
const UNSAFE_RE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON escapes decode to raw control characters (`\u001b` is ESC): escape them again so a path
 * printed in a terminal or rendered on a pull request cannot move the cursor or reorder text.
 */
export function displaySafe(s: string, max: number): string {
  const safe = s.replace(UNSAFE_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

/** One stderr line (without its newline) → a decision, or undefined for anything else. */
export function parseDecisionLine(line: string): EnforcerDecision | undefined {
  if (!line.startsWith(DECISION_PREFIX)) return undefined;
  if (Buffer.byteLength(line, 'utf8') > MAX_DECISION_LINE_BYTES) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(DECISION_PREFIX.length - 1));
  } catch {
    return undefined;
  }
  const parsed = decisionSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  return {
    ts: d.ts,
    decision: d.decision,
    gate: d.gate,
    syscall: d.syscall,
    path: displaySafe(d.path, MAX_STORED_PATH),
    sha256: d.sha256,
    pid: d.pid,
    uid: d.uid,
    parent: d.parent === null ? null : displaySafe(d.parent, 64),
    rule: d.rule,
    detail: displaySafe(d.detail, 512),
  };
}
