import { afterEach, describe, expect, it } from 'vitest';
import { closeTargets, openTargets } from '../../src/app/services/serving.js';
import { configSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { sqliteStore, type TestStore } from '../helpers/stores.js';

/**
 * A serving target's log lines name the target once. Pino writes every binding of every child it went
 * through, so a target bound by the registry, again by itself and again in the line's own fields printed
 * `"target":"local"` three times: noise in every line, and a log pipeline keeping the last one would hide
 * a wrong binding. Targets are opened as the app opens them (openTargets), over a real SQLite store.
 */
describe('serving target log lines', () => {
  let db: TestStore | undefined;
  afterEach(async () => {
    await db?.cleanup();
    db = undefined;
  });

  it('carry the target name exactly once', async () => {
    db = await sqliteStore();
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const config = configSchema.parse({ targets: { local: { kind: 'local', listen: '127.0.0.1:0' } } });
    const targets = openTargets(config, db.store, logger);
    try {
      // An empty traffic block needs no revision and no container: the line is logged before anything runs.
      await targets.get('local')!.setTraffic('hello', [], { allowEmpty: true });
    } finally {
      await closeTargets(targets);
    }
    const line = lines.find((l) => l.includes('"msg":"traffic set"'));
    expect(line, `no "traffic set" line in:\n${lines.join('')}`).toBeDefined();
    expect(line!.match(/"target":/g)).toHaveLength(1);
    expect(JSON.parse(line!)).toMatchObject({ target: 'local', app: 'hello', msg: 'traffic set' });
  });
});
