import { describe, expect, it } from 'vitest';
import { isFailureState, isSuccessState, isTerminalState, REACHED_BUILD_STATES } from '../../src/core/types.js';
import { DEFAULT_STAGES } from '../../src/pipeline/index.js';

describe('build end states, defined once', () => {
  it('counts what the stages reach as success, and failures, rejections and cancels as not', () => {
    for (const state of ['built', 'signed', 'ready']) expect([state, isSuccessState(state), isTerminalState(state as 'ready')]).toEqual([state, true, true]);
    for (const state of ['failed', 'rejected', 'canceled']) expect([state, isSuccessState(state), isFailureState(state)]).toEqual([state, false, true]);
    expect(isSuccessState('promoting')).toBe(false);
  });

  // No stage reaches `fetched` (a build builds what it fetched); rows an older Slipway ended so stay ended and succeeded.
  it('reads a stored fetched as an end state that succeeded, which no stage reaches', () => {
    expect(isTerminalState('fetched')).toBe(true);
    expect(isSuccessState('fetched')).toBe(true);
    expect(DEFAULT_STAGES.map((s) => s.reached).filter((r) => r !== undefined)).toEqual(['built', 'signed', 'ready']);
    expect(REACHED_BUILD_STATES).not.toContain('fetched');
  });
});
