import { afterAll, describe, expect, it } from 'vitest';
import { BuildkitClient, pruneToBudget } from '../../src/buildkit/index.js';
import { configSchema } from '../../src/config/index.js';
import { ENGINE } from './engine.js';

describe('build cache budget', () => {
  const client = new BuildkitClient(ENGINE);
  afterAll(() => client.close());

  it.each([
    [undefined, 10 * 1024 ** 3],
    ['512MiB', 512 * 1024 ** 2],
    ['2GB', 2 * 1000 ** 3],
    [1234, 1234],
  ])('buildCache.budget %j is %i bytes', (budget, bytes) => {
    expect(configSchema.parse(budget === undefined ? {} : { buildCache: { budget } }).buildCache.budget).toBe(bytes);
  });

  it('names the key and the way to write it when the budget is not a size', () => {
    const result = configSchema.safeParse({ buildCache: { budget: 'lots' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({ path: ['buildCache', 'budget'], message: expect.stringMatching(/"lots" is not a size/) });
  });

  // Pruning below what is there would delete other suites' cache on this shared Engine, so only the
  // no-op side is exercised for real: DiskUsage answers, and nothing is removed under budget.
  it('measures the Engine cache and leaves it alone while it fits the budget', async () => {
    const result = await pruneToBudget(client, Number.MAX_SAFE_INTEGER);
    expect(result.before).toBeGreaterThan(0);
    expect(result).toMatchObject({ removedRecords: 0, removedBytes: 0 });
  });
});
