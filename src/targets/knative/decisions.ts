import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../log/index.js';
import type { RuntimeEventSink, ServingState } from '../types.js';
import { followPodLog, PodLogError, type PodLogStream } from './pod-log.js';

/** Labels Knative Serving puts on a revision's pods. */
export const SERVICE_LABEL = 'serving.knative.dev/service';
export const REVISION_LABEL = 'serving.knative.dev/revision';
/** The app's container in a Knative pod (the queue-proxy runs beside it). */
export const USER_CONTAINER = 'user-container';

/** As the local target: decision lines are at most 4 KiB, plus the kubelet's timestamp. */
const MAX_STREAM_LINE = 4096 + 64;
const DECISION_PREFIX = 'slipway-enforcer: {';

const isoOf = (time: string): string | undefined => {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};
/** `sinceTime` is whole seconds on the wire (the API server drops fractions): round down, skip the overlap. */
const sinceOf = (iso: string): string => `${iso.slice(0, 19)}Z`;

interface PodEntry {
  name: string;
  app: string;
  revision: string;
  running: boolean;
  gone: boolean;
  /** Whether the pod belongs to a revision Slipway made on this target (asked of the store once). */
  ours?: Promise<boolean>;
  following: boolean;
  stream?: PodLogStream;
  wake?: () => void;
}

export interface KnativeDecisionOptions {
  kc: KubeConfig;
  namespace: string;
  target: string;
  state: ServingState;
  sink: RuntimeEventSink;
  logger: Logger;
  /** Reconnect delays (ms), doubling from `min` to `max`. Default 1 s … 60 s. */
  backoff?: { min: number; max: number };
}

/**
 * Follows the stderr-and-stdout log of the `user-container` of every running pod of Slipway's revisions in
 * the target's namespace, and hands the lines that look like enforcer decisions to the sink (which parses
 * them), with the revision from the pod's `serving.knative.dev/revision` label, the pod's name as the
 * container and the kubelet's timestamp.
 *
 * Pods come from a list-then-watch on `serving.knative.dev/service`; a pod is followed only when the store
 * knows its revision on this target (another team's Services in the namespace are not recorded). A
 * follower reconnects with backoff while its pod runs, resuming after the last line stored for it, and
 * stops when the pod goes. This is best effort and never fails anything: a missing right (403 on pods or
 * pods/log) is logged once (per collector, or per pod) and retried at the backoff's slowest pace.
 */
export class KnativeDecisionCollector {
  private readonly pods = new Map<string, PodEntry>();
  private readonly core: CoreV1Api;
  private readonly watch: Watch;
  private readonly backoff: { min: number; max: number };
  private closed = false;
  private abortWatch: (() => void) | undefined;
  private wakeWatch: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: KnativeDecisionOptions) {
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.watch = new Watch(o.kc);
    this.backoff = o.backoff ?? { min: 1_000, max: 60_000 };
  }

  start(): void {
    this.loop ??= this.watchLoop().catch((err: unknown) => this.o.logger.warn({ err }, 'watching Knative pods for enforcer decisions stopped'));
  }

  /** Pods followed now, by name (tests). */
  get following(): string[] {
    return [...this.pods.values()]
      .filter((p) => p.following)
      .map((p) => p.name)
      .sort();
  }

  private async watchLoop(): Promise<void> {
    let delay = this.backoff.min;
    let warned = false;
    while (!this.closed) {
      try {
        const list = await this.core.listNamespacedPod({ namespace: this.o.namespace, labelSelector: SERVICE_LABEL });
        const present = new Set<string>();
        for (const pod of list.items) {
          present.add(pod.metadata?.name ?? '');
          this.update(pod);
        }
        for (const name of [...this.pods.keys()]) if (!present.has(name)) this.forget(name);
        delay = this.backoff.min;
        warned = false;
        await this.watchFrom(list.metadata?.resourceVersion);
      } catch (err) {
        if (this.closed) return;
        // Once until it works again: a cluster that denies `list`/`watch` on pods would otherwise log every minute.
        if (!warned)
          this.o.logger.warn(
            { err: describe(err), namespace: this.o.namespace },
            'cannot list or watch Knative pods, so enforcer decisions are not collected; grant list and watch on pods',
          );
        warned = true;
        await this.pause(delay);
        delay = Math.min(delay * 2, this.backoff.max);
      }
    }
  }

  /** Watches from a list's resourceVersion until the server ends the watch (relist then) or it fails. */
  private watchFrom(resourceVersion: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let ended = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        this.abortWatch = undefined;
        if (err === undefined || this.closed) resolve();
        else reject(err instanceof Error ? err : new Error(String(err)));
      };
      this.watch
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(this.o.namespace)}/pods`,
          { labelSelector: SERVICE_LABEL, allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
          (phase, obj: V1Pod) => {
            if (phase === 'ADDED' || phase === 'MODIFIED') this.update(obj);
            else if (phase === 'DELETED') this.forget(obj.metadata?.name ?? '');
            else if (phase === 'ERROR') {
              // Typically 410 Gone (the resourceVersion is too old): list again.
              abort?.abort();
              end();
            }
          },
          (err: unknown) => end(err ?? undefined),
        )
        .then(
          (controller) => {
            abort = controller;
            this.abortWatch = () => controller.abort();
            if (ended || this.closed) controller.abort();
          },
          (err: unknown) => end(err),
        );
      let abort: AbortController | undefined;
    });
  }

  private update(pod: V1Pod): void {
    const name = pod.metadata?.name;
    const app = pod.metadata?.labels?.[SERVICE_LABEL];
    const revision = pod.metadata?.labels?.[REVISION_LABEL];
    if (!name || !app || !revision) return;
    let entry = this.pods.get(name);
    if (!entry) {
      entry = { name, app, revision, running: false, gone: false, following: false };
      this.pods.set(name, entry);
    }
    entry.running = pod.status?.phase === 'Running';
    if (!entry.running) {
      entry.stream?.stop();
      entry.wake?.();
      return;
    }
    if (!entry.following && !this.closed) void this.follow(entry);
  }

  private forget(name: string): void {
    const entry = this.pods.get(name);
    if (!entry) return;
    entry.gone = true;
    entry.running = false;
    entry.stream?.stop();
    entry.wake?.();
    this.pods.delete(name);
  }

  private live(entry: PodEntry): boolean {
    return !this.closed && !entry.gone && entry.running;
  }

  private async follow(entry: PodEntry): Promise<void> {
    entry.following = true;
    try {
      entry.ours ??= this.o.state.getRevision(entry.app, entry.revision).then(
        (r) => r !== undefined && r.target === this.o.target,
        () => false,
      );
      if (!(await entry.ours)) return;
      let cursor = await this.o.sink.lastSeen(entry.name).catch(() => undefined);
      let delay = this.backoff.min;
      let warned = false;
      while (this.live(entry)) {
        const since = cursor;
        let fresh = false;
        try {
          entry.stream = await followPodLog(this.o.kc, {
            namespace: this.o.namespace,
            pod: entry.name,
            container: USER_CONTAINER,
            sinceTime: since === undefined ? undefined : sinceOf(since),
            maxLine: MAX_STREAM_LINE,
            onLine: (time, line) => {
              const at = isoOf(time);
              // Lines up to the last one stored were counted already (the reconnect overlaps by up to a second).
              if (at === undefined || (since !== undefined && at <= since)) return;
              fresh = true;
              if (cursor === undefined || at > cursor) cursor = at;
              if (line.startsWith(DECISION_PREFIX))
                this.o.sink.record({ app: entry.app, target: this.o.target, revision: entry.revision, container: entry.name, at }, line);
            },
          });
          if (!this.live(entry)) entry.stream.stop();
          await entry.stream.done;
        } catch (err) {
          if (!this.live(entry)) return;
          if (!warned) {
            const rights = err instanceof PodLogError && err.status === 403 ? '; grant get on pods/log' : '';
            this.o.logger.warn(
              { err: describe(err), pod: entry.name, revision: entry.revision },
              `cannot follow the log of pod ${entry.name}, so its enforcer decisions are not collected${rights}`,
            );
          }
          warned = true;
        }
        if (fresh) delay = this.backoff.min;
        await this.pause(delay, entry);
        delay = Math.min(delay * 2, this.backoff.max);
      }
    } finally {
      entry.following = false;
      entry.stream = undefined;
    }
  }

  private async pause(ms: number, entry?: PodEntry): Promise<void> {
    const ac = new AbortController();
    const wake = () => ac.abort();
    if (entry) entry.wake = wake;
    else this.wakeWatch = wake;
    await sleep(ms, undefined, { signal: ac.signal, ref: false }).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    this.abortWatch?.();
    this.wakeWatch?.();
    for (const entry of this.pods.values()) {
      entry.stream?.stop();
      entry.wake?.();
    }
    this.pods.clear();
  }
}

/** What to log of a failure: status and message, never a request (its headers carry the credentials). */
function describe(err: unknown): { status?: number; message: string } {
  if (err instanceof PodLogError) return { status: err.status, message: err.message };
  // ApiException (list) carries `code` and the Status body; the watch's error carries `statusCode`.
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown } | null;
  const status = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  let message = typeof e?.message === 'string' ? e.message.split('\n')[0]!.slice(0, 300) : String(err).slice(0, 300);
  let body = e?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* keep the error's message */
    }
  }
  const m = (body as { message?: unknown } | null | undefined)?.message;
  if (typeof m === 'string') message = m.slice(0, 300);
  return { ...(status !== undefined ? { status } : {}), message };
}
