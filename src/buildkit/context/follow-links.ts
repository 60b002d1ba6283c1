import { lstat, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

/**
 * fsutil FollowLinks (followlinks.go): `followpaths` of a FileSync request name paths the receiver
 * wants (BuildKit 0.8's Dockerfile frontend asks for the Dockerfile this way, without include
 * patterns); each becomes an include pattern, and a symlink on the way adds itself and its target, so
 * a Dockerfile that is a link arrives with what it points to. Returns undefined when a path is the
 * root itself: then nothing is filtered.
 */
export async function followLinks(root: string, paths: readonly string[]): Promise<string[] | undefined> {
  const resolved = new Set<string>();

  const append = async (path: string, depth: number): Promise<void> => {
    if (depth > 40) return; // a link loop: stop, as the kernel would (ELOOP)
    const parts = posix.normalize(path).replace(/^\/+/, '').split('/');
    let current = '';
    for (let i = 0; i < parts.length; i++) {
      current = current ? `${current}/${parts[i]}` : parts[i]!;
      const rest = parts.slice(i + 1).join('/');
      const target = await linkTarget(root, current);
      if (target !== undefined) {
        if (resolved.has(current)) return;
        resolved.add(current);
        await append(rest ? posix.join(target, rest) : target, depth + 1);
        return;
      }
      if (!rest) {
        resolved.add(current);
        return;
      }
    }
  };

  for (const p of paths) await append(p, 0);
  const sorted = [...resolved].sort();
  if (sorted.includes('.') || sorted.includes('')) return undefined;
  // dedupePaths: a path under another listed path adds nothing.
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => p.startsWith(`${q}/`))) out.push(p);
  return out;
}

/** The target of a symlink relative to the root (links are resolved inside the context), or undefined. */
async function linkTarget(root: string, rel: string): Promise<string | undefined> {
  try {
    const st = await lstat(join(root, rel));
    if (!st.isSymbolicLink()) return undefined;
    const link = await readlink(join(root, rel));
    return link.startsWith('/') ? posix.normalize(link).slice(1) : posix.join(posix.dirname(rel), link);
  } catch {
    return undefined;
  }
}
