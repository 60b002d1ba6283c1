import { describe, expect, it } from 'vitest';
import { ProgressTracker } from '../../src/buildkit/progress.js';
import type { StatusResponse, Vertex } from '../../src/buildkit/types.js';

const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
const vertex = (digest: string, name: string, extra: Partial<Vertex> = {}): Vertex => ({
  digest,
  inputs: [],
  name,
  cached: false,
  started: null,
  completed: null,
  error: '',
  ...extra,
});
const status = (part: Partial<StatusResponse>): StatusResponse => ({ vertexes: [], statuses: [], logs: [], ...part });
const log = (vertexDigest: string, text: string) => ({ vertex: vertexDigest, timestamp: null, stream: 1, msg: Buffer.from(text) });

/** The Status stream as BuildKit sends it: vertices repeated as they change, output in arbitrary chunks. */
describe('ProgressTracker', () => {
  it('turns vertices and output into ordered lines and steps', () => {
    const lines: string[] = [];
    const t = new ProgressTracker((l) => lines.push(l));
    t.handle(status({ vertexes: [vertex('sha256:a', '[1/3] FROM base', { cached: true, started: ts(1000), completed: ts(1000) })] }));
    t.handle(status({ vertexes: [vertex('sha256:b', '[2/3] RUN make', { started: ts(2000) })] }));
    t.handle(status({ logs: [log('sha256:b', 'compil'), log('sha256:b', 'ing\nlinking')] }));
    t.handle(status({ vertexes: [vertex('sha256:b', '[2/3] RUN make', { started: ts(2000), completed: ts(3500) })], logs: [log('sha256:b', '\n')] }));
    t.handle(
      status({
        vertexes: [vertex('sha256:c', '[3/3] COPY x /', { started: ts(4000), completed: ts(4000), error: 'failed to compute cache key: "/x" not found' })],
      }),
    );
    t.finish();
    expect(lines).toEqual([
      '#1 [1/3] FROM base',
      '#1 CACHED',
      '#2 [2/3] RUN make',
      '#2 compiling',
      '#2 linking',
      '#2 DONE 1.5s',
      '#3 [3/3] COPY x /',
      '#3 ERROR: failed to compute cache key: "/x" not found',
    ]);
    expect(t.steps()).toMatchObject([
      { index: 1, name: '[1/3] FROM base', cached: true, durationMs: 0, error: null },
      { index: 2, name: '[2/3] RUN make', cached: false, startedAt: '1970-01-01T00:00:02.000Z', completedAt: '1970-01-01T00:00:03.500Z', durationMs: 1500 },
      { index: 3, error: 'failed to compute cache key: "/x" not found' },
    ]);
    expect(t.failedStep()).toMatchObject({ name: '[3/3] COPY x /', tail: [] });
  });

  it('keeps the last 20 lines of a step, and names the failing step rather than a sibling canceled with it', () => {
    const t = new ProgressTracker();
    t.handle(status({ vertexes: [vertex('sha256:a', 'RUN a', { started: ts(0) }), vertex('sha256:b', 'RUN b', { started: ts(0) })] }));
    t.handle(status({ logs: [log('sha256:b', Array.from({ length: 30 }, (_, i) => `line${i + 1}\n`).join(''))] }));
    t.handle(status({ vertexes: [vertex('sha256:a', 'RUN a', { error: 'context canceled' }), vertex('sha256:b', 'RUN b', { error: 'exit code: 1' })] }));
    const failed = t.failedStep()!;
    expect(failed.name).toBe('RUN b');
    expect(failed.tail).toEqual(Array.from({ length: 20 }, (_, i) => `line${i + 11}`));
  });
});
