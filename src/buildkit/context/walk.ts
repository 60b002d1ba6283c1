import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { goFileMode, isRegularGoMode } from './file-mode.js';
import { followLinks } from './follow-links.js';
import { PathMatcher } from './patterns.js';

/** fsutil `types.Stat` as proto-loader encodes it; int64 nanoseconds travel as {low, high} (2^53 is too small). */
export interface StatMessage {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  modTime: { low: number; high: number; unsigned: boolean };
  linkname: string;
  devmajor: number;
  devminor: number;
}

export interface WalkEntry {
  stat: StatMessage;
  /** Absolute path on disk, for DATA. */
  abs: string;
  /** Only regular files may be requested (fsutil fileCanRequestData). */
  regular: boolean;
}

export interface WalkFilter {
  include?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
  /** Paths to include, following symlinks on the way (fsutil FilterOpt.FollowPaths). */
  followPaths?: readonly string[] | undefined;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function int64(value: bigint): StatMessage['modTime'] {
  const u = BigInt.asUintN(64, value);
  return { low: Number(u & 0xffffffffn), high: Number(u >> 32n), unsigned: false };
}

/**
 * Lists a directory the way fsutil's sender walks it (tonistiigi/fsutil send.go over FilterFS): depth
 * first, parents before children, entries of a directory sorted by their bytes (Go's os.ReadDir), and
 * paths slash-separated relative to the root. BuildKit's receiver validates this order. Filtering
 * follows fsutil filter.go: a directory excluded by a pattern is still walked when an exception
 * (`!…`) may re-include something inside it, and a directory that is not itself kept is sent just
 * before the first child that is.
 */
export async function walkContext(root: string, filter: WalkFilter = {}): Promise<WalkEntry[]> {
  let includes: string[] | undefined = filter.include?.length ? [...filter.include] : undefined;
  if (filter.followPaths?.length) {
    const followed = await followLinks(root, filter.followPaths);
    // Following the root itself means no filter at all (fsutil dedupePaths).
    includes = followed === undefined ? undefined : [...new Set([...(includes ?? []), ...followed])];
  }
  const include = includes?.length ? new PathMatcher(includes) : undefined;
  const exclude = filter.exclude?.length ? new PathMatcher(filter.exclude) : undefined;
  const out: WalkEntry[] = [];
  const inodes = new Map<string, string>();

  interface Pending {
    entry: WalkEntry;
    emitted: boolean;
  }

  const visit = async (relDir: string, parents: Pending[]): Promise<void> => {
    const absDir = relDir ? join(root, relDir) : root;
    const names = (await readdir(absDir)).sort(byBytes);
    const stats = await Promise.all(names.map((n) => lstat(join(absDir, n), { bigint: true })));
    for (let i = 0; i < names.length; i++) {
      const rel = relDir ? `${relDir}/${names[i]}` : names[i]!;
      const st = stats[i]!;
      const isDir = st.isDirectory();
      let keep = true;
      if (include && !include.matches(rel)) {
        if (isDir && !include.mayMatchInside(rel, false)) continue;
        keep = false;
      }
      if (exclude && exclude.matches(rel)) {
        if (isDir && (!exclude.hasExclusions || !exclude.mayMatchInside(rel, true))) continue;
        keep = false;
      }
      const abs = join(absDir, names[i]!);
      const mode = goFileMode(Number(st.mode));
      const stat: StatMessage = {
        path: rel,
        mode,
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: isDir ? 0 : Number(st.size),
        modTime: int64(st.mtimeNs),
        linkname: '',
        devmajor: 0,
        devminor: 0,
      };
      if (st.isSymbolicLink()) {
        // fsutil stat_unix.go: a symlink's permission bits are always 0777.
        stat.mode = (mode | 0o777) >>> 0;
        stat.linkname = await readlink(abs);
      } else if (st.isBlockDevice() || st.isCharacterDevice()) {
        const rdev = st.rdev;
        stat.devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
        stat.devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      }
      const entry: WalkEntry = { stat, abs, regular: isRegularGoMode(stat.mode) };
      if (keep) {
        for (const p of parents) {
          if (!p.emitted) {
            p.emitted = true;
            out.push(p.entry);
          }
        }
        // Hard links: the second and later paths of one inode name the first (fsutil setUnixOpt).
        if (entry.regular && st.nlink > 1n) {
          const key = `${st.dev}:${st.ino}`;
          const first = inodes.get(key);
          if (first) entry.stat.linkname = first;
          else inodes.set(key, rel);
        }
        out.push(entry);
      }
      if (isDir) await visit(rel, [...parents, { entry, emitted: keep }]);
    }
  };
  await visit('', []);
  return out;
}
