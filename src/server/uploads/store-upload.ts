import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SlipwayError } from '../../core/errors.js';
import { validateContextTar } from './validate-tar.js';

export interface StoredUpload {
  /** Hex SHA-256 of the uploaded bytes: the build's "commit" (same bytes, same build). */
  sha256: string;
  /** Absolute path of the stored archive, `<dataDir>/uploads/<sha256>.tar.gz`. */
  path: string;
  size: number;
}

export interface UploadLimits {
  /** Bytes received (api.uploadLimit). */
  limit: number;
  /** Bytes once unpacked (api.uploadUnpackedLimit). */
  unpackedLimit: number;
  /** Tar entries (api.uploadMaxEntries). */
  maxEntries: number;
}

/**
 * Streams an upload to disk (never whole in memory), hashing and counting as it goes, refuses it past
 * `limit` bytes, `unpackedLimit` unpacked or `maxEntries` entries (413), or when its tar is unsafe (400), and only then moves it to its content-addressed
 * name, so a stored upload is always a complete, validated archive. Same bytes → same file.
 */
export async function storeUpload(body: Readable, dir: string, { limit, unpackedLimit, maxEntries }: UploadLimits): Promise<StoredUpload> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.incoming-${randomBytes(8).toString('hex')}`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit)
        return done(
          new SlipwayError(
            'SLW_UPLOAD_TOO_LARGE',
            `the upload is larger than api.uploadLimit (${limit} bytes); add large files to .dockerignore or raise the limit`,
          ),
        );
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(tmp, { mode: 0o600 }));
    if (size === 0) throw new SlipwayError('SLW_UPLOAD_INVALID', 'the upload is empty; send the build context as a gzip-compressed tar');
    await validateContextTar(tmp, unpackedLimit, maxEntries);
    const sha256 = hash.digest('hex');
    const path = join(dir, `${sha256}.tar.gz`);
    await rename(tmp, path);
    return { sha256, path, size };
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BAD_REQUEST', `the upload could not be received: ${(err as Error).message}`, { cause: err });
  }
}
