import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { SlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';

export const sha256Digest = (data: Buffer | Uint8Array | string): Digest => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/**
 * Passes bytes through while hashing them and fails the stream at its end when they do not match the
 * expected digest (and size): a blob is never accepted as whole unless it is the content asked for.
 */
export class DigestVerifier extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(
    private readonly expected: string,
    private readonly what: string,
    private readonly expectedSize?: number,
  ) {
    super();
    if (!expected.startsWith('sha256:')) {
      throw new SlipwayError('SLW_REGISTRY_DIGEST_MISMATCH', `${what}: only sha256 digests are supported, got ${expected}`);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) {
      done(new SlipwayError('SLW_REGISTRY_DIGEST_MISMATCH', `${this.what} is larger than its descriptor's ${this.expectedSize} bytes`));
      return;
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.expected) {
      done(new SlipwayError('SLW_REGISTRY_DIGEST_MISMATCH', `${this.what} has digest ${actual}, expected ${this.expected}`));
    } else if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      done(new SlipwayError('SLW_REGISTRY_DIGEST_MISMATCH', `${this.what} is ${this.bytes} bytes, its descriptor says ${this.expectedSize}`));
    } else done();
  }
}
