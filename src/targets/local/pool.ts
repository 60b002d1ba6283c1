import { Agent } from 'node:http';
import { SlipwayError } from '../../core/errors.js';
import type { Logger } from '../../log/index.js';
import type { Revision } from '../types.js';
import type { Containers, Instance } from './containers.js';

/** Knobs of one revision's autoscaler (all from targets.<name>; ms). */
export interface PoolSettings {
  concurrency: number;
  maxScale: number;
  idleTimeout: number;
  removeAfter: number;
  stableWindow: number;
  startTimeout: number;
}

type InstanceState = 'ready' | 'pausing' | 'paused' | 'resuming' | 'draining';

/** A container the pool routes to, with its in-flight count and its own keep-alive agent. */
export interface PoolInstance extends Instance {
  state: InstanceState;
  inflight: number;
  agent: Agent;
}

/** A request's hold on an instance; `release` exactly once when the response is done. */
export interface Lease {
  instance: PoolInstance;
  release(): void;
}

interface Waiter {
  resolve(lease: Lease): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One revision's containers and its autoscaler, Knative's KPA in miniature:
 * - requests go to the least-loaded ready container; when that one already has `concurrency` requests
 *   in flight (a soft target, as Knative's `autoscaling.knative.dev/target`), another container starts,
 *   up to `maxScale`, while requests keep going to the ones that run;
 * - with no container ready (cold start, resume), requests are held — not dropped — until one is, or
 *   until `startTimeout`;
 * - every `stableWindow` the pool keeps as many containers as the peak concurrency of the window needs
 *   and drains the rest: no new requests, wait for in-flight ones, then SIGTERM (and SIGKILL after the grace);
 * - idle for `idleTimeout`: scale to zero by pausing (cgroup freezer: no CPU, memory kept, resumes in
 *   milliseconds); idle for `removeAfter` more: the paused container is stopped and removed.
 */
export class RevisionPool {
  private readonly instances: PoolInstance[] = [];
  private launching = 0;
  private readonly waiters: Waiter[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private scaleTimer: NodeJS.Timeout | undefined;
  private windowPeak = 0;
  private closed = false;

  constructor(
    readonly revision: Revision,
    private readonly containers: Containers,
    private readonly settings: PoolSettings,
    private readonly logger: Logger,
    /** Told of every container the pool takes (started or adopted): the enforcer's decisions are read from it. */
    private readonly watch?: (instance: Instance) => void,
  ) {}

  /** Counts for status and tests. */
  get counts(): { ready: number; paused: number; launching: number; draining: number; inflight: number } {
    const by = (s: InstanceState) => this.instances.filter((i) => i.state === s).length;
    return { ready: by('ready') + by('resuming'), paused: by('paused'), launching: this.launching, draining: by('draining'), inflight: this.inflight() };
  }

  private inflight(): number {
    return this.instances.reduce((s, i) => s + i.inflight, 0);
  }

  /** Takes over a container this process did not start (deploy in another process, or a restart). */
  adopt(instance: Instance, paused: boolean): void {
    if (this.instances.some((i) => i.id === instance.id)) return;
    this.instances.push({ ...instance, state: paused ? 'paused' : 'ready', inflight: 0, agent: newAgent() });
    this.watch?.(instance);
    if (!paused) this.dispatch();
    this.armIdle();
  }

  acquire(): Promise<Lease> {
    if (this.closed) return Promise.reject(new SlipwayError('SLW_UNAVAILABLE', `revision ${this.revision.name} is no longer served`));
    const lease = this.tryLease();
    if (lease) return Promise.resolve(lease);
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new SlipwayError('SLW_UNAVAILABLE', `revision ${this.revision.name} did not get a ready container within ${this.settings.startTimeout} ms`));
        }, this.settings.startTimeout),
      };
      this.waiters.push(waiter);
      this.wake();
    });
  }

  /** The least-loaded ready instance, leased; starts another when even that one is at the target. */
  private tryLease(): Lease | undefined {
    let best: PoolInstance | undefined;
    for (const i of this.instances) if (i.state === 'ready' && (!best || i.inflight < best.inflight)) best = i;
    if (!best) return undefined;
    if (best.inflight >= this.settings.concurrency) this.scaleOut(1);
    return this.lease(best);
  }

  private lease(instance: PoolInstance): Lease {
    instance.inflight++;
    const total = this.inflight();
    if (total > this.windowPeak) this.windowPeak = total;
    this.disarmIdle();
    let released = false;
    return {
      instance,
      release: () => {
        if (released) return;
        released = true;
        instance.inflight--;
        if (instance.state === 'draining' && instance.inflight === 0) void this.retire(instance);
        if (this.inflight() === 0) this.armIdle();
      },
    };
  }

  /** Nothing ready: resume a paused container, else start enough for the waiting requests. */
  private wake(): void {
    const paused = this.instances.find((i) => i.state === 'paused');
    if (paused) {
      void this.resume(paused);
      return;
    }
    // Mid-pause or mid-resume: that container is about to be the answer (pauseAll wakes it again).
    if (this.instances.some((i) => i.state === 'resuming' || i.state === 'pausing')) return;
    const wanted = Math.min(this.settings.maxScale, Math.max(1, Math.ceil(this.waiters.length / this.settings.concurrency)));
    this.scaleOut(wanted - this.launching - this.instances.filter((i) => i.state !== 'draining').length);
  }

  private async resume(instance: PoolInstance): Promise<void> {
    instance.state = 'resuming';
    try {
      await this.containers.resume(instance);
      instance.state = 'ready';
      this.logger.debug({ revision: this.revision.name, container: instance.id.slice(0, 12) }, 'resumed');
      this.dispatch();
    } catch (err) {
      this.logger.warn({ err, revision: this.revision.name }, 'could not resume a paused container; starting a new one');
      this.forget(instance);
      this.wake();
    }
  }

  private scaleOut(count: number): void {
    const room = this.settings.maxScale - this.launching - this.instances.filter((i) => i.state !== 'draining').length;
    for (let k = 0; k < Math.min(count, room); k++) void this.launchOne();
  }

  private async launchOne(): Promise<void> {
    this.launching++;
    try {
      const instance = await this.containers.launch(this.revision);
      this.launching--;
      if (this.closed) {
        await this.containers.stop(instance);
        return;
      }
      this.instances.push({ ...instance, state: 'ready', inflight: 0, agent: newAgent() });
      this.watch?.(instance);
      this.logger.info(
        { revision: this.revision.name, container: instance.id.slice(0, 12), port: instance.port, socket: instance.socket, containers: this.instances.length },
        'container started',
      );
      this.armScaleIn();
      this.dispatch();
      if (this.inflight() === 0 && this.waiters.length === 0) this.armIdle();
    } catch (err) {
      this.launching--;
      this.logger.error({ err, revision: this.revision.name }, 'container did not start');
      // Requests waiting on this start would otherwise hang until startTimeout: fail them with the reason.
      if (this.launching === 0 && !this.instances.some((i) => i.state === 'ready' || i.state === 'resuming')) {
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(err as Error);
        }
      }
    }
  }

  /** Hands held requests to ready instances (least loaded first). */
  private dispatch(): void {
    while (this.waiters.length) {
      const lease = this.tryLease();
      if (!lease) return;
      const waiter = this.waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(lease);
    }
  }

  /** A container that refused a connection is gone or broken: stop routing to it and remove it. */
  fail(instance: PoolInstance): void {
    if (!this.instances.includes(instance)) return;
    this.logger.warn({ revision: this.revision.name, container: instance.id.slice(0, 12) }, 'container stopped answering; replacing it');
    this.forget(instance);
    void this.containers.stop(instance).catch(() => undefined);
  }

  private forget(instance: PoolInstance): void {
    const at = this.instances.indexOf(instance);
    if (at >= 0) this.instances.splice(at, 1);
    instance.agent.destroy();
  }

  /** Graceful drain's last step: no requests in flight any more, so SIGTERM it. */
  private async retire(instance: PoolInstance): Promise<void> {
    this.forget(instance);
    this.logger.info({ revision: this.revision.name, container: instance.id.slice(0, 12), containers: this.instances.length }, 'container drained and stopped');
    await this.containers.stop(instance).catch((err: unknown) => this.logger.warn({ err }, 'stopping a drained container failed'));
  }

  private drain(instance: PoolInstance): void {
    instance.state = 'draining';
    if (instance.inflight === 0) void this.retire(instance);
  }

  private armScaleIn(): void {
    if (this.scaleTimer || this.closed) return;
    this.windowPeak = this.inflight();
    this.scaleTimer = setInterval(() => this.scaleIn(), this.settings.stableWindow);
    this.scaleTimer.unref();
  }

  /** Once per stable window: keep what the window's peak concurrency needs (at least one), drain the rest. */
  private scaleIn(): void {
    const ready = this.instances.filter((i) => i.state === 'ready');
    const needed = Math.max(1, Math.ceil(this.windowPeak / this.settings.concurrency));
    this.windowPeak = this.inflight();
    const extra = ready.length - needed;
    if (extra > 0) for (const i of [...ready].sort((a, b) => a.inflight - b.inflight).slice(0, extra)) this.drain(i);
    if (this.instances.filter((i) => i.state !== 'draining').length <= 1) {
      clearInterval(this.scaleTimer);
      this.scaleTimer = undefined;
    }
  }

  private disarmIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private armIdle(): void {
    this.disarmIdle();
    if (this.closed || this.instances.length === 0) return;
    const anyRunning = this.instances.some((i) => i.state === 'ready');
    this.idleTimer = setTimeout(
      () => void (anyRunning ? this.pauseAll() : this.removeAll()),
      anyRunning ? this.settings.idleTimeout : this.settings.removeAfter,
    );
    this.idleTimer.unref();
  }

  /** Scale to zero, step one: keep one container (paused), stop the others. */
  private async pauseAll(): Promise<void> {
    this.idleTimer = undefined;
    if (this.inflight() > 0 || this.launching > 0) return;
    const ready = this.instances.filter((i) => i.state === 'ready');
    const [keep, ...rest] = ready;
    for (const i of rest) this.drain(i);
    if (keep) {
      keep.state = 'pausing';
      try {
        await this.containers.pause(keep);
        keep.state = 'paused';
        this.logger.info({ revision: this.revision.name, container: keep.id.slice(0, 12) }, 'idle: paused');
      } catch (err) {
        this.logger.warn({ err, revision: this.revision.name }, 'could not pause an idle container; stopping it');
        this.forget(keep);
        await this.containers.stop(keep).catch(() => undefined);
      }
    }
    // A request may have come in while the Engine paused it: it is waiting, so wake the container again.
    if (this.waiters.length) this.wake();
    else this.armIdle();
  }

  /** Scale to zero, step two: paused long enough, so free its memory too. */
  private async removeAll(): Promise<void> {
    this.idleTimer = undefined;
    for (const i of this.instances.filter((x) => x.state === 'paused')) {
      this.forget(i);
      this.logger.info({ revision: this.revision.name, container: i.id.slice(0, 12) }, 'idle: removed');
      await this.containers.stop(i, true).catch((err: unknown) => this.logger.warn({ err }, 'removing an idle container failed'));
    }
    if (this.waiters.length) this.wake();
  }

  /**
   * Stops managing the revision. `remove`: also stop its containers (the revision was deleted);
   * otherwise they keep running for the next process to adopt (restart keeps serving).
   */
  async close(remove = false): Promise<void> {
    this.closed = true;
    this.disarmIdle();
    if (this.scaleTimer) clearInterval(this.scaleTimer);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new SlipwayError('SLW_UNAVAILABLE', `revision ${this.revision.name} is no longer served here`));
    }
    for (const i of this.instances.splice(0)) {
      i.agent.destroy();
      if (remove) await this.containers.stop(i, i.state === 'paused').catch(() => undefined);
    }
  }
}

/** Keep-alive to the container: apps that keep connections open save a connect per request. */
const newAgent = () => new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
