import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, lstat, mkdir, rm, stat, symlink } from 'node:fs/promises';
import { posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { SlipwayError } from '../../core/errors.js';
import type { StageContext } from '../context.js';
import type { FetchOutput } from '../../core/stage-outputs.js';

/**
 * The fetch stage for uploaded contexts (trigger `upload`): the build's `cloneUrl` is the
 * stored archive (`<dataDir>/uploads/<sha256>.tar.gz`, validated by the server when it arrived) and
 * its contents become the app's context directory inside the workspace, so the build stage finds
 * `apps[].context` and `apps[].dockerfile` where it would in a checkout. Unpacking checks again rather
 * than trusting the file: no entry leaves the workspace or is written through a symlink.
 */
export async function unpackUpload(ctx: StageContext): Promise<FetchOutput> {
  const { build, workspace } = ctx;
  await rm(workspace, { recursive: true, force: true });
  const root = resolve(workspace, ctx.app.context);
  if (!isInside(workspace, root))
    throw new SlipwayError('SLW_BUILD_CONTEXT', `the app's context "${ctx.app.context}" leaves the workspace; set apps[].context to a directory inside it`);
  await mkdir(root, { recursive: true });
  try {
    await stat(build.cloneUrl);
  } catch (err) {
    throw new SlipwayError(
      'SLW_FETCH_COMMIT_MISSING',
      `the uploaded context ${build.cloneUrl} is gone; workers need the server's dataDir (shared storage when they run elsewhere)`,
      { cause: err },
    );
  }
  await ctx.log(`unpacking the uploaded context (sha256 ${build.commit})`);
  let files = 0;
  let bytes = 0;
  let entries = 0;
  const limit = ctx.config.api.uploadUnpackedLimit;
  const maxEntries = ctx.config.api.uploadMaxEntries;
  const { signal } = ctx;
  const reader = extract();
  const write = (async () => {
    for await (const entry of reader) {
      // A canceled or timed-out build stops here, not after the last of a million entries.
      if (signal.aborted) throw aborted(signal);
      const { header } = entry;
      // Checked again here (the server did when it arrived): an archive stored before the limit was
      // lowered, or put there by hand, must not keep a worker busy for an hour either.
      if (++entries > maxEntries) throw refused(header.name, `takes the upload past api.uploadMaxEntries (${maxEntries} entries)`);
      // Entries whose data is already buffered are handed over without a pass through the event loop;
      // let timers (the queue's lock renewal among them) run now and then whatever the archive holds.
      if (entries % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
      const rel = posix.normalize(header.name).replace(/\/+$/, '');
      const target = resolve(root, rel);
      if (header.name.startsWith('/') || !isInside(root, target)) throw refused(header.name, 'leaves the context');
      if (target === root) {
        entry.resume();
        continue;
      }
      await ensureDir(root, posix.dirname(rel), header.name);
      if (header.type === 'directory') {
        await ensureDir(root, rel, header.name);
        entry.resume();
        continue;
      }
      await rm(target, { recursive: true, force: true }); // a later entry replaces an earlier one, as tar does
      if (header.type === 'file' || header.type === 'contiguous-file') {
        // Checked again here (the server did when it arrived), before the disk fills.
        bytes += header.size ?? 0;
        if (bytes > limit) throw refused(header.name, `takes the unpacked context past api.uploadUnpackedLimit (${limit} bytes)`);
        // Streamed, never whole in memory; flag wx: never follows whatever might sit at the path; setuid/setgid bits are dropped.
        await pipeline(entry, createWriteStream(target, { flags: 'wx', mode: header.mode & 0o777 }));
        await chmod(target, header.mode & 0o777);
        files++;
      } else if (header.type === 'symlink') {
        entry.resume();
        await symlink(header.linkname, target); // created, never followed here; BuildKit resolves links inside the context
      } else if (header.type === 'link') {
        entry.resume();
        const source = resolve(root, posix.normalize(header.linkname));
        await ensureDir(root, posix.dirname(posix.normalize(header.linkname)), header.name);
        if (!isInside(root, source) || !(await lstat(source)).isFile())
          throw refused(header.name, `is a hard link to ${header.linkname}, which is not a file in the context`);
        await link(source, target);
      } else {
        throw refused(header.name, `is a ${header.type}`);
      }
    }
  })();
  try {
    await Promise.all([pipeline(createReadStream(build.cloneUrl), createGunzip(), reader, { signal }), write]);
  } catch (err) {
    reader.destroy();
    if (signal.aborted) throw aborted(signal);
    if (err instanceof SlipwayError) throw err;
    throw new SlipwayError('SLW_BUILD_CONTEXT', `the uploaded context cannot be unpacked: ${(err as Error).message}`, { cause: err });
  }
  await ctx.log(`unpacked ${files} files`);
  return { commit: build.commit, dir: workspace };
}

/** A resumed build keeps a completed unpack while the context directory is still there. */
export async function unpackedValid(ctx: StageContext, output: FetchOutput): Promise<boolean> {
  return output.commit === ctx.build.commit && (await stat(resolve(output.dir, ctx.app.context)).catch(() => undefined))?.isDirectory() === true;
}

/** How many entries are unpacked between two yields to the event loop. */
const YIELD_EVERY = 256;

const aborted = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new SlipwayError('SLW_BUILD_CANCELED', 'build canceled while unpacking');

const refused = (entry: string, why: string) => new SlipwayError('SLW_BUILD_CONTEXT', `upload entry "${entry}" ${why}; it was not unpacked`);

const isInside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
};

/** mkdir -p of `rel` under root that refuses to pass through a symlink (mkdir would follow it out). */
async function ensureDir(root: string, rel: string, entry: string): Promise<void> {
  let here = root;
  for (const part of rel.split('/').filter((p) => p !== '' && p !== '.')) {
    here = resolve(here, part);
    const st = await lstat(here).catch(() => undefined);
    if (!st) await mkdir(here);
    else if (st.isSymbolicLink()) throw refused(entry, 'is written through a symlink');
    else if (!st.isDirectory()) throw refused(entry, `needs ${part} to be a directory`);
  }
}
