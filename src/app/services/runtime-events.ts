import { parseDecisionLine } from '../../injection/decision-line.js';
import type { Logger } from '../../log/index.js';
import type { Metrics } from '../../metrics/index.js';
import { addRuntimeEvents, getRevision, lastRuntimeEventAt, runtimeEventKey, type RuntimeEventCount, type Store } from '../../store/index.js';
import type { ContainerLineSource, RuntimeEventSink } from '../../targets/index.js';

export interface RuntimeEventRecorderOptions {
  store: Store;
  logger: Logger;
  metrics?: Metrics;
  /** Asks for a forge feedback refresh of a build (its revision got new decisions). */
  notify?: (buildId: string) => Promise<void>;
  /** Distinct rows one revision may add per minute; lines beyond are counted in metrics only. Default 100. */
  rowsPerRevisionMinute?: number;
  /** How often counted lines are written (ms). Default 1000. */
  flushInterval?: number;
  /** Least time between two feedback refreshes of one build (ms). Default 60 000. */
  notifyInterval?: number;
}

const minuteOf = (iso: string): string => `${iso.slice(0, 16)}:00.000Z`;

/**
 * The runtime decisions the targets read, into the store, metrics and forge feedback — with bounds,
 * because whoever controls the app controls how many lines there are (and may forge them):
 * - lines are counted in memory and written once per `flushInterval`, one upsert per distinct row;
 * - a row is (app, revision, minute, decision, rule, path): a crash loop repeating one denial adds
 *   to one row's count;
 * - a revision gets at most `rowsPerRevisionMinute` distinct rows per minute (an app printing
 *   endless distinct forged paths); beyond, lines are only counted in metrics;
 * - a build's forge feedback is refreshed at most once per `notifyInterval`, the last news after
 *   the interval, so a pull request comment is not rewritten per line.
 */
export class RuntimeEventRecorder implements RuntimeEventSink {
  private pending = new Map<string, RuntimeEventCount>();
  /** Row keys per `app\0revision\0minute`, for the cap. */
  private readonly rows = new Map<string, Set<string>>();
  private readonly lastNotified = new Map<string, number>();
  private readonly deferred = new Map<string, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly cap: number;
  private readonly notifyInterval: number;

  constructor(private readonly o: RuntimeEventRecorderOptions) {
    this.cap = o.rowsPerRevisionMinute ?? 100;
    this.notifyInterval = o.notifyInterval ?? 60_000;
  }

  /** A container's stderr line: counted when it is a well-formed decision line, else ignored. */
  record(r: ContainerLineSource, line: string): void {
    const d = parseDecisionLine(line);
    if (d === undefined) return;
    this.o.metrics?.enforcerDecisions.inc({ app: r.app, revision: r.revision, decision: d.decision });
    const minute = minuteOf(r.at);
    const row = { app: r.app, revision: r.revision, minute, decision: d.decision, rule: d.rule, path: d.path };
    const key = runtimeEventKey(row);
    const window = `${r.app}\0${r.revision}\0${minute}`;
    let keys = this.rows.get(window);
    if (keys === undefined) this.rows.set(window, (keys = new Set()));
    if (!keys.has(key)) {
      if (keys.size >= this.cap) {
        this.o.metrics?.enforcerDecisionsUnstored.inc({ app: r.app });
        return;
      }
      keys.add(key);
    }
    const seen = this.pending.get(key);
    if (seen) {
      seen.count++;
      if (r.at > seen.lastAt) seen.lastAt = r.at;
      seen.container = r.container;
    } else {
      this.pending.set(key, {
        ...row,
        target: r.target,
        container: r.container,
        syscall: d.syscall,
        sha256: d.sha256,
        uid: d.uid,
        parent: d.parent,
        firstAt: r.at,
        lastAt: r.at,
        count: 1,
      });
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.o.flushInterval ?? 1000);
      this.timer.unref();
    }
  }

  /** Writes what was counted so far (serialized: one flush at a time). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.forgetOldWindows();
    if (batch.length === 0) return;
    try {
      await addRuntimeEvents(this.o.store.db, batch);
    } catch (err) {
      this.o.logger.warn({ err, rows: batch.length }, 'could not store enforcer decisions; they are counted in metrics only');
      return;
    }
    const revisions = new Map(batch.filter((e) => e.decision !== 'allowed').map((e) => [`${e.app}\0${e.revision}`, e]));
    for (const e of revisions.values()) await this.refreshFeedback(e.app, e.revision);
  }

  /** Windows older than the previous minute can get no more rows. */
  private forgetOldWindows(): void {
    const oldest = minuteOf(new Date(Date.now() - 120_000).toISOString());
    for (const window of this.rows.keys()) if (window.slice(window.lastIndexOf('\0') + 1) < oldest) this.rows.delete(window);
  }

  private async refreshFeedback(app: string, revision: string): Promise<void> {
    const notify = this.o.notify;
    if (notify === undefined) return;
    const buildId = (await getRevision(this.o.store.db, app, revision).catch(() => undefined))?.buildId;
    if (!buildId || this.deferred.has(buildId)) return;
    const wait = (this.lastNotified.get(buildId) ?? -Infinity) + this.notifyInterval - Date.now();
    const send = () => {
      this.deferred.delete(buildId);
      this.lastNotified.set(buildId, Date.now());
      notify(buildId).catch((err: unknown) => this.o.logger.warn({ err, build: buildId }, 'could not queue forge feedback for runtime decisions'));
    };
    if (wait <= 0) send();
    else {
      const t = setTimeout(send, wait);
      t.unref();
      this.deferred.set(buildId, t);
    }
    for (const [id, at] of this.lastNotified) if (Date.now() - at > this.notifyInterval) this.lastNotified.delete(id);
  }

  lastSeen(container: string): Promise<string | undefined> {
    return lastRuntimeEventAt(this.o.store.db, container);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.deferred.values()) clearTimeout(t);
    this.deferred.clear();
    await this.flush();
  }
}
