import { describe, expect, it } from 'vitest';
import { parseStageOutput } from '../../src/core/stage-outputs.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('stored stage outputs: one typed reader', () => {
  it('reads back what a stage stored', () => {
    const built = { digest: DIGEST, image: `127.0.0.1:5000/slipway/app@${DIGEST}`, tag: 'abc123' };
    expect(parseStageOutput('build', JSON.stringify(built))).toEqual(built);
    expect(parseStageOutput('fetch', JSON.stringify({ commit: 'c'.repeat(40), dir: '/w/b1' }))).toEqual({ commit: 'c'.repeat(40), dir: '/w/b1' });
  });

  // A checkpoint of another shape (an older Slipway's, a damaged row) is no checkpoint: the stage runs again.
  it.each([
    ['build', JSON.stringify({ digest: 'sha256:short', image: 'x', tag: 't' })],
    ['fetch', JSON.stringify({ commit: 'c'.repeat(40) })],
    ['policy-source', JSON.stringify({ gate: 'deploy', decisions: 1, warnings: 0 })],
    ['promote', null],
    ['sign', '{not json'],
  ] as const)('reads a %s checkpoint of another shape (%s) as none', (stage, stored) => {
    expect(parseStageOutput(stage, stored)).toBeUndefined();
  });

  it('passes on the output of a stage it does not know (a test stage) as stored', () => {
    expect(parseStageOutput('stuck', JSON.stringify({ any: 1 }))).toEqual({ any: 1 });
    expect(parseStageOutput('stuck', null)).toBeNull();
  });
});
