import { describe, expect, it } from 'vitest';
import { parseStageOutput, promotedRevision } from '../../src/core/stage-outputs.js';

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

describe('the promote stage result, as the API and the CLI read it', () => {
  const row = (output: unknown, state = 'done') => ({ stage: 'promote', state, output: JSON.stringify(output) });

  it('is the revision and its URL; a preview serves at its tag URL', () => {
    expect(promotedRevision([row({ revision: 'app-3', url: 'http://app.test', moved: true })])).toEqual({ name: 'app-3', url: 'http://app.test' });
    expect(promotedRevision([row({ revision: 'app-4', url: 'http://app.test', tagUrl: 'http://pr-5-app.test', moved: true })])).toEqual({
      name: 'app-4',
      url: 'http://pr-5-app.test',
    });
  });

  it('is none before promote is done, when it made no revision, or when its row is not a promote result', () => {
    expect(promotedRevision([])).toBeUndefined();
    expect(promotedRevision([row({ revision: 'app-3', url: 'http://app.test', moved: true }, 'running')])).toBeUndefined();
    expect(promotedRevision([row({ url: 'http://app.test', moved: false, reason: 'a newer build serves' })])).toBeUndefined();
    expect(promotedRevision([row({ revision: 3 })])).toBeUndefined();
  });
});
