import { toMillis, type StatusResponse, type Vertex } from './types.js';

/** One step of a build as users see it; a BuildKit vertex. */
export interface BuildStep {
  /** 1-based, in the order BuildKit first reported the vertex. */
  index: number;
  /** Vertex digest: identifies the step within the build. */
  digest: string;
  name: string;
  cached: boolean;
  /** ISO-8601 times. */
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

export type ProgressLevel = 'info' | 'warn' | 'error';
export type ProgressLine = (line: string, level: ProgressLevel) => void;

/** Lines kept per step for the error message of a failed step (the last 20). */
export const TAIL_LINES = 20;

interface StepState extends BuildStep {
  announced: boolean;
  finished: boolean;
  tail: string[];
  /** Unterminated output per stream (1 stdout, 2 stderr) until its newline arrives. */
  partial: Map<number, string>;
  transfers: Map<string, { name: string; current: number; done: boolean }>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const human = (n: number) =>
  n < 1024 ? `${n}B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(2)}kB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(2)}MB` : `${(n / 1024 ** 3).toFixed(2)}GB`;

/**
 * Turns BuildKit's Status stream (control.proto StatusResponse: vertexes, statuses, logs, each sent
 * again whenever it changes) into ordered log lines in the style of BuildKit's plain progress
 * (`#3 [2/3] COPY . /app`, `#3 output…`, `#3 DONE 0.4s`) and a step list.
 */
export class ProgressTracker {
  private readonly byDigest = new Map<string, StepState>();

  constructor(
    private readonly onLine: ProgressLine = () => undefined,
    /** Each vertex name, once, when BuildKit first reports it (the resolution check reads them). */
    private readonly onVertexName: (name: string) => void = () => undefined,
  ) {}

  handle(res: StatusResponse): void {
    // Vertices first (a log may belong to one announced in the same message), their completion last
    // (BuildKit sends a step's final output and its completion together).
    for (const v of res.vertexes) this.vertex(v);
    for (const s of res.statuses) {
      const step = this.step(s.vertex);
      const t = step.transfers.get(s.ID) ?? { name: s.name || s.ID, current: 0, done: false };
      t.current = s.current;
      step.transfers.set(s.ID, t);
      if (s.completed && !t.done) {
        t.done = true;
        this.line(step, `${t.name} ${human(s.current)} done`);
      }
    }
    for (const l of res.logs) {
      const step = this.step(l.vertex);
      const text = (step.partial.get(l.stream) ?? '') + l.msg.toString('utf8');
      const parts = text.split(/\r?\n/);
      step.partial.set(l.stream, parts.pop() ?? '');
      for (const part of parts) this.output(step, part);
    }
    for (const v of res.vertexes) this.completion(this.step(v.digest));
  }

  /** Flushes unterminated output (the stream ended). */
  finish(): void {
    for (const step of this.byDigest.values()) {
      for (const [stream, rest] of step.partial) {
        if (rest) this.output(step, rest);
        step.partial.delete(stream);
      }
    }
  }

  steps(): BuildStep[] {
    return [...this.byDigest.values()].map((s) => ({
      index: s.index,
      digest: s.digest,
      name: s.name,
      cached: s.cached,
      startedAt: s.startedAt,
      completedAt: s.completedAt,
      durationMs: s.durationMs,
      error: s.error,
    }));
  }

  /** The step that failed: the first with an error that is not just the cancellation of its siblings. */
  failedStep(): (BuildStep & { tail: string[] }) | undefined {
    const failed = [...this.byDigest.values()].filter((s) => s.error);
    const step = failed.find((s) => !/context canceled/i.test(s.error ?? '')) ?? failed[0];
    return step ? { ...this.steps().find((s) => s.digest === step.digest)!, tail: [...step.tail] } : undefined;
  }

  private step(digest: string): StepState {
    let s = this.byDigest.get(digest);
    if (!s) {
      s = {
        index: this.byDigest.size + 1,
        digest,
        name: '',
        cached: false,
        startedAt: null,
        completedAt: null,
        durationMs: null,
        error: null,
        announced: false,
        finished: false,
        tail: [],
        partial: new Map(),
        transfers: new Map(),
      };
      this.byDigest.set(digest, s);
    }
    return s;
  }

  /** Records what a vertex message says and announces the step when it starts. */
  private vertex(v: Vertex): void {
    const s = this.step(v.digest);
    if (v.name && v.name !== s.name) {
      s.name = v.name;
      this.onVertexName(v.name);
    }
    s.cached ||= v.cached;
    const started = toMillis(v.started);
    const completed = toMillis(v.completed);
    if (started !== null) s.startedAt = iso(started);
    if (completed !== null) s.completedAt = iso(completed);
    if (started !== null && completed !== null) s.durationMs = Math.max(0, completed - started);
    if (v.error) s.error = v.error;
    if (!s.announced && (started !== null || s.cached || completed !== null)) {
      s.announced = true;
      this.onLine(`#${s.index} ${s.name}`, 'info');
    }
  }

  private completion(s: StepState): void {
    if (!s.finished && (s.completedAt !== null || s.error)) {
      s.finished = true;
      if (s.error) this.onLine(`#${s.index} ERROR: ${s.error}`, 'error');
      else if (s.cached) this.onLine(`#${s.index} CACHED`, 'info');
      else this.onLine(`#${s.index} DONE ${((s.durationMs ?? 0) / 1000).toFixed(1)}s`, 'info');
    }
  }

  private output(step: StepState, text: string): void {
    step.tail.push(text);
    if (step.tail.length > TAIL_LINES) step.tail.shift();
    this.line(step, text);
  }

  private line(step: StepState, text: string): void {
    if (!step.announced) {
      step.announced = true;
      this.onLine(`#${step.index} ${step.name}`, 'info');
    }
    this.onLine(`#${step.index} ${text}`, 'info');
  }
}
