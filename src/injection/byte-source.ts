import { SlipwayError } from '../core/errors.js';

/**
 * Pull-style reads over a chunked stream: exact reads for headers, and bounded chunk streaming for
 * bodies, so a tar member of any size passes through without being held in memory.
 */
export class ByteSource {
  private readonly it: AsyncIterator<Buffer | Uint8Array>;
  private pending: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>) {
    this.it =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (async function* () {
            yield* source;
          })();
  }

  /** Fills `pending` with at least one more chunk; false at the end of the stream. */
  private async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.it.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    return true;
  }

  /** Exactly `n` bytes, or undefined when the stream ends before the first byte; a partial read throws. */
  async read(n: number, what: string): Promise<Buffer | undefined> {
    while (this.pending.length < n) {
      if (!(await this.more())) {
        if (this.pending.length === 0) return undefined;
        throw new SlipwayError('SLW_INJECT_LAYER', `layer tar ends in the middle of ${what} (${this.pending.length} of ${n} bytes)`);
      }
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /** The next `n` bytes as chunks (each no larger than what the source delivered). */
  async *stream(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.more())) {
        throw new SlipwayError('SLW_INJECT_LAYER', `layer tar ends in the middle of ${what} (${n - left} of ${n} bytes)`);
      }
      const take = Math.min(left, this.pending.length);
      const out = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      left -= take;
      yield out;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.stream(n, what)) void _;
  }

  /** Reads to the end, discarding: trailing padding still counts toward a layer's diff_id. */
  async drain(): Promise<void> {
    this.pending = Buffer.alloc(0);
    while (await this.more()) this.pending = Buffer.alloc(0);
  }
}
