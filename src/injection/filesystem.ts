import { createHash } from 'node:crypto';
import { SlipwayError } from '../core/errors.js';
import type { TarEntry } from './tar-reader.js';

/**
 * The image's root filesystem as the runtime will see it, rebuilt from layer tar entries applied in
 * order (OCI image-spec layer.md, "Applying Changesets"), keeping only what the executable manifest
 * needs: which regular files exist at which real paths, with mode, size and (for executables) SHA-256.
 *
 * - Whiteouts (`.wh.<name>`) delete a path and everything beneath it from lower layers; an opaque
 *   whiteout (`.wh..wh..opq`) deletes every lower-layer child of its directory. Both apply to lower
 *   layers only, whatever their position in the archive, so each node remembers the layer that last wrote it.
 * - Hard links share one inode (content and mode); symlinks are kept as links and never listed: the
 *   enforcer compares the real, canonical path (enforcer/README.md, "Manifest format").
 * - An entry below a path that a lower layer made a symlink or file replaces it with a directory, as
 *   Docker's overlay2 does when it stacks the layer's own directory over the lower non-directory.
 */

export interface Inode {
  mode: number;
  size: number;
  /** Hex SHA-256 of the content, for executables and ELF files (others are not hashed). */
  sha256: string | undefined;
}

type Node =
  | { kind: 'dir'; layer: number; children: Map<string, Node> }
  | { kind: 'file'; layer: number; inode: Inode }
  | { kind: 'symlink'; layer: number; target: string }
  | { kind: 'other'; layer: number };

/**
 * What one tar entry contributes to the merge, without its body: the unit the layer scan cache stores.
 * A regular file carries `sha256` only when it is executable or ELF (the others are never hashed).
 */
export type LayerChange =
  | { type: 'file'; name: string; mode: number; size: number; sha256: string | undefined }
  | { type: 'symlink' | 'hardlink'; name: string; linkname: string }
  | { type: 'directory' | 'other'; name: string };

export interface ExecutableFile {
  /** Absolute canonical path, latin1 (one char per byte). */
  path: string;
  mode: number;
  size: number;
  sha256: string;
}

export interface FilesystemStats {
  files: number;
  symlinks: number;
  whiteouts: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** `./usr//bin/` → `['usr','bin']`; `..` cannot occur in a layer a runtime would apply. */
export function splitPath(name: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new SlipwayError('SLW_INJECT_LAYER', `layer entry "${name}" climbs out of the root with ".."; no runtime applies such a layer`);
  return parts;
}

const isExecutable = (mode: number) => (mode & 0o111) !== 0;

export class LayeredFilesystem {
  private readonly root: Node & { kind: 'dir' } = { kind: 'dir', layer: 0, children: new Map() };
  private layer = 0;
  readonly stats: FilesystemStats = { files: 0, symlinks: 0, whiteouts: 0 };

  /** Call before the entries of each layer, bottom layer first. */
  beginLayer(): void {
    this.layer++;
  }

  /** Applies one tar entry of the current layer (reads a regular file's body to classify and hash it). */
  async apply(entry: TarEntry): Promise<void> {
    this.applyChange(await describeEntry(entry));
  }

  /**
   * Applies one entry as `describeEntry` summarized it. Everything the merge needs from a layer is in
   * its changes, in archive order, so replaying a layer's cached changes rebuilds exactly what reading
   * its tar would (scan-cache.ts).
   */
  applyChange(change: LayerChange): void {
    const parts = splitPath(change.name);
    const base = parts.pop();
    if (base === undefined) return; // the root directory itself
    if (base.startsWith(WHITEOUT)) {
      this.stats.whiteouts++;
      const parent = this.lookupDir(parts);
      if (!parent) return;
      if (base === OPAQUE) this.dropLower(parent);
      else this.whiteout(parent, base.slice(WHITEOUT.length));
      return;
    }
    const parent = this.makeDirs(parts);
    const existing = parent.children.get(base);
    const layer = this.layer;
    switch (change.type) {
      case 'directory':
        if (existing?.kind === 'dir') existing.layer = layer;
        else parent.children.set(base, { kind: 'dir', layer, children: new Map() });
        return;
      case 'file':
        this.stats.files++;
        parent.children.set(base, { kind: 'file', layer, inode: { mode: change.mode, size: change.size, sha256: change.sha256 } });
        return;
      case 'symlink':
        this.stats.symlinks++;
        parent.children.set(base, { kind: 'symlink', layer, target: change.linkname });
        return;
      case 'hardlink': {
        const target = this.lookup(splitPath(change.linkname));
        if (target?.kind === 'file') parent.children.set(base, { kind: 'file', layer, inode: target.inode });
        else if (target?.kind === 'symlink') parent.children.set(base, { kind: 'symlink', layer, target: target.target });
        else
          throw new SlipwayError('SLW_INJECT_LAYER', `layer entry "${change.name}" is a hard link to "${change.linkname}", which is not a file in the image`);
        return;
      }
      default:
        parent.children.set(base, { kind: 'other', layer });
    }
  }

  /** Every executable regular file (any execute bit) and every ELF file, sorted by path. */
  executables(): ExecutableFile[] {
    const out: ExecutableFile[] = [];
    const walk = (dir: Node & { kind: 'dir' }, prefix: string) => {
      for (const name of [...dir.children.keys()].sort()) {
        const node = dir.children.get(name)!;
        const path = `${prefix}/${name}`;
        if (node.kind === 'dir') walk(node, path);
        else if (node.kind === 'file' && node.inode.sha256 !== undefined) {
          out.push({ path, mode: node.inode.mode, size: node.inode.size, sha256: node.inode.sha256 });
        }
      }
    };
    walk(this.root, '');
    return out;
  }

  private lookup(parts: readonly string[]): Node | undefined {
    let node: Node = this.root;
    for (const p of parts) {
      if (node.kind !== 'dir') return undefined;
      const next = node.children.get(p);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  private lookupDir(parts: readonly string[]): (Node & { kind: 'dir' }) | undefined {
    const node = this.lookup(parts);
    return node?.kind === 'dir' ? node : undefined;
  }

  /** The parent directory of a new entry, creating missing directories (and replacing non-directories). */
  private makeDirs(parts: readonly string[]): Node & { kind: 'dir' } {
    let dir = this.root;
    for (const p of parts) {
      let next = dir.children.get(p);
      if (next?.kind !== 'dir') {
        next = { kind: 'dir', layer: this.layer, children: new Map() };
        dir.children.set(p, next);
      }
      dir = next;
    }
    return dir;
  }

  private whiteout(parent: Node & { kind: 'dir' }, name: string): void {
    const node = parent.children.get(name);
    if (!node) return;
    if (node.layer < this.layer) parent.children.delete(name);
    // Re-created in this same layer: only what lower layers put beneath it goes.
    else if (node.kind === 'dir') this.dropLower(node);
  }

  /** Removes everything lower layers put below `dir`, keeping what the current layer wrote. */
  private dropLower(dir: Node & { kind: 'dir' }): void {
    for (const [name, child] of dir.children) {
      if (child.layer < this.layer) dir.children.delete(name);
      else if (child.kind === 'dir') this.dropLower(child);
    }
  }
}

/**
 * Summarizes a tar entry for `applyChange`, reading a regular file's body when it is not a whiteout.
 * The path is checked first, as applying it would, so a layer climbing out with `..` fails the same way
 * whether or not its body is intact.
 */
export async function describeEntry(entry: TarEntry): Promise<LayerChange> {
  const { name, type } = entry;
  const base = splitPath(name).at(-1);
  switch (type) {
    case 'file':
      // A whiteout's body means nothing (layer.md: whiteouts are empty files); it is left unread.
      if (base === undefined || base.startsWith(WHITEOUT)) return { type, name, mode: entry.mode, size: entry.size, sha256: undefined };
      return { type, name, ...(await readInode(entry)) };
    case 'symlink':
    case 'hardlink':
      return { type, name, linkname: entry.linkname };
    default:
      return { type, name };
  }
}

/**
 * Reads a regular file's body once: hashes it when it is executable or turns out to be ELF (decided on
 * its first four bytes), and otherwise stops reading so the tar reader skips the rest unhashed.
 */
async function readInode(entry: TarEntry): Promise<Inode> {
  const { mode, size } = entry;
  let hash = isExecutable(mode) ? createHash('sha256') : undefined;
  // Bytes seen while still deciding whether a non-executable file is ELF.
  let head: Buffer | undefined = hash ? undefined : Buffer.alloc(0);
  for await (const chunk of entry.body) {
    if (head !== undefined) {
      head = Buffer.concat([head, chunk]);
      if (head.length < ELF_MAGIC.length) continue;
      if (!head.subarray(0, ELF_MAGIC.length).equals(ELF_MAGIC)) return { mode, size, sha256: undefined };
      hash = createHash('sha256').update(head);
      head = undefined;
      continue;
    }
    hash!.update(chunk);
  }
  return { mode, size, sha256: hash?.digest('hex') };
}
