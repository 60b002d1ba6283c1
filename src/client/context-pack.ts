import { createReadStream } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createGzip } from 'node:zlib';
import { pack, type Header, type Pack } from 'tar-stream';
import { walkContext } from '../buildkit/context/walk.js';

export interface PackOptions {
  /** A Dockerfile to send as the context's `Dockerfile` (path relative to the working directory). */
  dockerfile?: string | undefined;
}

export interface PackedContext {
  /** gzip-compressed tar, what `POST /api/v1/apps/:app/builds` takes. */
  archive: Buffer;
  files: number;
}

/** `.dockerignore` lines without comments (Docker's dockerignore.ReadAll). */
async function ignorePatterns(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => '');
  return text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
}

/** One entry, written before the next starts (tar is sequential); bodyless entries take an empty buffer. */
const add = (archive: Pack, header: Partial<Header> & Pick<Header, 'name'>, body?: NodeJS.ReadableStream) =>
  new Promise<void>((done, fail) => {
    const finish = (err?: Error | null) => (err ? fail(err) : done());
    if (body) body.on('error', fail).pipe(archive.entry(header, finish));
    else archive.entry(header, Buffer.alloc(0), finish);
  });

/**
 * Packs a build context as the Docker CLI sends one (the GitHub Action and `slipway deploy`):
 * everything under `dir` except what `.dockerignore` excludes (BuildKit's own matcher, so the upload
 * holds what a local build would see), symlinks kept as symlinks. A `dockerfile` outside the usual
 * place is sent as `Dockerfile` at the root, where the server's build looks for it.
 */
export async function packContext(dir: string, options: PackOptions = {}): Promise<PackedContext> {
  const root = resolve(dir);
  const dockerfile = options.dockerfile ? resolve(options.dockerfile) : undefined;
  const replaced = dockerfile && relative(root, dockerfile) !== 'Dockerfile';
  const entries = await walkContext(root, { exclude: await ignorePatterns(root) });
  const archive = pack();
  const gzip = archive.pipe(createGzip());
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const finished = new Promise<void>((done, fail) => gzip.on('end', done).on('error', fail));
  let files = 0;
  for (const { abs, stat } of entries) {
    const name = stat.path;
    if (replaced && name === 'Dockerfile') continue;
    const st = await lstat(abs);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) await add(archive, { name, type: 'directory', mode, mtime: st.mtime });
    else if (st.isSymbolicLink()) await add(archive, { name, type: 'symlink', linkname: await readlink(abs), mode });
    else if (st.isFile()) {
      await add(archive, { name, type: 'file', size: st.size, mode, mtime: st.mtime }, createReadStream(abs));
      files++;
    }
    // sockets, fifos and devices have no place in a build context: left out, as BuildKit would fail on them
  }
  if (replaced && dockerfile) {
    const st = await lstat(dockerfile);
    await add(archive, { name: 'Dockerfile', type: 'file', size: st.size, mode: 0o644, mtime: st.mtime }, createReadStream(dockerfile));
    files++;
  }
  archive.finalize();
  await finished;
  return { archive: Buffer.concat(chunks), files };
}
