import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { SlipwayError } from '../../core/errors.js';

const ALLOWED_TYPES = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link']);
const MAX_LINK_HOPS = 40; // Linux's MAXSYMLINKS

const invalid = (entry: string, why: string) =>
  new SlipwayError('SLW_UPLOAD_INVALID', `entry "${entry}" ${why}; the build context must stay inside its directory`, { details: { entry } });

/** `a/./b/` → `a/b`; undefined when the path is absolute or climbs out with `..` (lexically). */
function inside(path: string): string | undefined {
  if (path.startsWith('/')) return undefined;
  const clean = posix.normalize(path).replace(/\/+$/, '');
  if (clean === '..' || clean.startsWith('../')) return undefined;
  return clean === '' ? '.' : clean;
}

/**
 * Resolves `path` inside the archive, following the archive's own symlinks component by component
 * (as the kernel would once it is unpacked). Undefined when it leaves the root: checking each link on
 * its own is not enough (`x -> .` with `x/l -> ../y` escapes although both look harmless).
 */
function resolveInArchive(path: string, links: ReadonlyMap<string, string>): string | undefined {
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      if (done.length === 0) return undefined;
      done.pop();
      continue;
    }
    const here = [...done, part].join('/');
    const target = links.get(here);
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > MAX_LINK_HOPS || target.startsWith('/')) return undefined;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return done.join('/') || '.';
}

/**
 * Checks an uploaded gzip tar before anything is built from it: only files, directories and
 * links; no absolute paths, no `..` out of the root, no symlink or hard link that resolves outside it,
 * and nothing written through a symlink. Throws SLW_UPLOAD_INVALID (400) naming the first bad entry.
 * Its files may not add up to more than `unpackedLimit` bytes (SLW_UPLOAD_TOO_LARGE, 413): a small
 * archive can expand a thousandfold, and reading stops as soon as the sum passes the limit. Nor may it
 * hold more than `maxEntries` entries (413 too): a million empty files gzip to a few megabytes yet cost a
 * worker minutes of unpacking and the server the memory of their headers.
 */
export async function validateContextTar(file: string, unpackedLimit: number, maxEntries: number): Promise<{ entries: number; bytes: number }> {
  const headers: Header[] = [];
  const reader = extract();
  let bytes = 0;
  const collect = (async () => {
    for await (const entry of reader) {
      if (headers.length >= maxEntries) {
        throw new SlipwayError(
          'SLW_UPLOAD_TOO_LARGE',
          `the upload holds more than api.uploadMaxEntries (${maxEntries}) files, directories and links; add what the build does not need to .dockerignore or raise api.uploadMaxEntries`,
          { details: { limit: 'api.uploadMaxEntries', maxEntries } },
        );
      }
      headers.push(entry.header);
      bytes += entry.header.size ?? 0;
      if (bytes > unpackedLimit) {
        throw new SlipwayError(
          'SLW_UPLOAD_TOO_LARGE',
          `the upload's files add up to more than api.uploadUnpackedLimit (${unpackedLimit} bytes) once unpacked; add large files to .dockerignore or raise the limit`,
        );
      }
      entry.resume(); // contents do not matter here, only names and types
    }
  })();
  try {
    await Promise.all([pipeline(createReadStream(file), createGunzip(), reader), collect]);
  } catch (err) {
    reader.destroy();
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_UPLOAD_INVALID', `the upload is not a gzip-compressed tar archive (${(err as Error).message}); send the output of tar -cz`, {
      cause: err,
    });
  }

  const links = new Map<string, string>();
  const paths: { header: Header; path: string }[] = [];
  for (const header of headers) {
    const type = header.type ?? 'file';
    if (!ALLOWED_TYPES.has(type)) throw invalid(header.name, `is a ${type}; only files, directories and links may be uploaded`);
    const path = inside(header.name);
    if (!path) throw invalid(header.name, 'is an absolute path or leaves the context with ".."');
    paths.push({ header, path });
    if (type === 'symlink') {
      const linkname = header.linkname ?? '';
      if (linkname.startsWith('/')) throw invalid(header.name, `is a symlink to the absolute path ${linkname}`);
      links.set(path, posix.join(posix.dirname(path), linkname));
    }
  }
  for (const { header, path } of paths) {
    // A parent that is a symlink would make unpacking write wherever it points.
    const parent = posix.dirname(path);
    if (parent !== '.' && resolveInArchive(parent, links) !== parent) throw invalid(header.name, 'is written through a symlink');
    if (header.type === 'symlink' && resolveInArchive(path, links) === undefined)
      throw invalid(header.name, `is a symlink to ${header.linkname} outside the context`);
    if (header.type === 'link') {
      const target = inside(header.linkname ?? '');
      if (!target || resolveInArchive(target, links) !== target) throw invalid(header.name, `is a hard link to ${header.linkname} outside the context`);
    }
  }
  return { entries: headers.length, bytes };
}
