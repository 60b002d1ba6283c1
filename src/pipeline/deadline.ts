import { SlipwayError } from '../core/errors.js';

/** setTimeout's longest delay; a longer one fires at once. */
const MAX_DELAY = 2 ** 31 - 1;

const human = (ms: number) =>
  ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;

/**
 * The time limits of one build (`builds.timeout` for the whole build, `builds.stageTimeout` per stage).
 * Its `signal` aborts when the build is canceled or a limit passes, so the running work stops (git is
 * killed, the BuildKit solve is canceled, an unpack stops); `expired` then says which limit passed. A
 * stage that ignores the signal is not waited for either: `run` gives up on it, so a worker slot is
 * never held past the limit (`RUN sleep 100000` must not starve the workers).
 */
export class BuildDeadline {
  private readonly controller = new AbortController();
  private readonly buildTimer: NodeJS.Timeout;
  private stageTimer: NodeJS.Timeout | undefined;
  private stage: string | undefined;
  private readonly forward: () => void;
  expired: SlipwayError | undefined;

  constructor(
    private readonly outer: AbortSignal,
    private readonly limits: { timeout: number; stageTimeout: number },
    startedAt: number,
    now = Date.now(),
  ) {
    this.forward = () => this.controller.abort(outer.reason);
    if (outer.aborted) this.forward();
    else outer.addEventListener('abort', this.forward, { once: true });
    const left = Math.max(0, startedAt + limits.timeout - now);
    this.buildTimer = setTimeout(
      () =>
        this.expire(
          `the build ran longer than builds.timeout (${human(limits.timeout)})${this.stage ? ` and was stopped in the ${this.stage} stage` : ''}; make it faster or raise builds.timeout`,
          'builds.timeout',
        ),
      Math.min(left, MAX_DELAY),
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs one stage under the stage limit; rejects as soon as the build is aborted, whatever the stage does. */
  async run<T>(stage: string, work: () => Promise<T>): Promise<T> {
    this.stage = stage;
    const limit = this.limits.stageTimeout;
    this.stageTimer = setTimeout(
      () =>
        this.expire(
          `the ${stage} stage ran longer than builds.stageTimeout (${human(limit)}); make it faster or raise builds.stageTimeout`,
          'builds.stageTimeout',
        ),
      Math.min(limit, MAX_DELAY),
    );
    const signal = this.controller.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new SlipwayError('SLW_BUILD_CANCELED', 'build canceled'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const running = work();
    running.catch(() => undefined); // it may settle after we gave up on it
    try {
      return await Promise.race([running, aborted]);
    } finally {
      clearTimeout(this.stageTimer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      this.stage = undefined;
    }
  }

  dispose(): void {
    clearTimeout(this.buildTimer);
    clearTimeout(this.stageTimer);
    this.outer.removeEventListener('abort', this.forward);
  }

  private expire(message: string, key: string): void {
    if (this.expired || this.controller.signal.aborted) return;
    this.expired = new SlipwayError('SLW_BUILD_TIMEOUT', message, { details: { limit: key, stage: this.stage ?? null } });
    this.controller.abort(this.expired);
  }
}
