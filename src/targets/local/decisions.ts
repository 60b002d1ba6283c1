import type { Logger } from '../../log/index.js';
import type { Revision, RuntimeEventSink } from '../types.js';
import type { DockerEngine } from './docker.js';

/**
 * Decision lines are at most 4 KiB (the parser ignores longer ones); with room for the Engine's
 * timestamp. Longer lines are dropped whole by the stream reader, so memory per container stays bounded.
 */
const MAX_STREAM_LINE = 4096 + 64;
/** Cheap filter before the sink: decision lines start with the enforcer's prefix and a `{`. */
const DECISION_PREFIX = 'slipway-enforcer: {';
const RETRY_MS = 1000;

/** Engine timestamps (RFC 3339, nanoseconds, trailing zeros cut) → ISO with milliseconds, which sort as text. */
function isoOf(engineTime: string): string | undefined {
  const ms = Date.parse(engineTime);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Follows the stderr of every container the router serves and hands the enforcer's decision lines to
 * the sink (which parses them). One follower per container; it ends when the container does (the Engine closes the
 * stream), and reconnects after an interruption while the container still runs or is paused (a
 * paused container just writes nothing). After a restart of Slipway, following resumes after the
 * last line stored for that container, so lines are not counted twice.
 */
export class DecisionCollector {
  private readonly followed = new Map<string, { stop(): void }>();
  private closed = false;

  constructor(
    private readonly o: {
      engine: DockerEngine;
      sink: RuntimeEventSink;
      target: string;
      logger: Logger;
    },
  ) {}

  /** Starts following a container of `revision` unless it is followed already. */
  follow(revision: Pick<Revision, 'app' | 'name'>, container: string): void {
    if (this.closed || this.followed.has(container)) return;
    const handle = { stopped: false, stop: () => undefined as void };
    const entry = {
      stop: () => {
        handle.stopped = true;
        handle.stop();
      },
    };
    this.followed.set(container, entry);
    void this.run(revision, container, handle)
      .catch((err: unknown) => this.o.logger.warn({ err, container: container.slice(0, 12) }, 'following enforcer decisions failed'))
      .finally(() => {
        if (this.followed.get(container) === entry) this.followed.delete(container);
      });
  }

  private async run(revision: Pick<Revision, 'app' | 'name'>, container: string, handle: { stopped: boolean; stop: () => void }): Promise<void> {
    let cursor = await this.o.sink.lastSeen(container).catch(() => undefined);
    while (!handle.stopped && !this.closed) {
      const since = cursor === undefined ? '0' : (Date.parse(cursor) / 1000).toFixed(3);
      const stream = this.o.engine.followLogs(
        container,
        since,
        (engineTime, line) => {
          const at = isoOf(engineTime);
          if (at === undefined) return;
          // `since` is inclusive: skip what the last connection (or process) already counted.
          if (cursor !== undefined && at <= cursor) return;
          cursor = at;
          if (line.startsWith(DECISION_PREFIX)) this.o.sink.record({ app: revision.app, target: this.o.target, revision: revision.name, container, at }, line);
        },
        MAX_STREAM_LINE,
      );
      handle.stop = stream.stop;
      try {
        await stream.done;
      } catch (err) {
        this.o.logger.debug({ err, container: container.slice(0, 12) }, 'log stream ended with an error');
      }
      if (handle.stopped || this.closed) return;
      const state = await this.o.engine.inspectState(container).catch(() => undefined);
      if (state === undefined || !['running', 'paused', 'restarting', 'created'].includes(state.status)) return;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
    }
  }

  /** Containers followed now (tests). */
  get size(): number {
    return this.followed.size;
  }

  close(): void {
    this.closed = true;
    for (const f of this.followed.values()) f.stop();
    this.followed.clear();
  }
}
