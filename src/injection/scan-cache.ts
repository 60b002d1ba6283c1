import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayerChange } from './filesystem.js';

/**
 * What scanning a layer found, kept so that the next image sharing the layer need not download and
 * decompress it again (injection has to stay well under a rebuild, and a rebuild has its base
 * layers cached locally).
 *
 * Key: the layer's *compressed* blob digest plus how it is decompressed, not its diff_id. The blob
 * digest is what the registry serves and verifies, so an entry keyed by it describes exactly the bytes
 * injection would read. A diff_id is only the image config's claim about what the blob uncompresses
 * to: keying by it would let an image whose blob does not match its claimed diff_id borrow another
 * layer's clean scan, where a full scan refuses the image. The entry records the diff_id the scan
 * actually measured; a caller uses the entry only when it equals the config's claim (scan.ts), so the
 * check a full scan makes still holds. The compression is part of the key because the same bytes read
 * as gzip or as a plain tar are different layers.
 *
 * Entries are immutable facts about immutable content; the only invalidation is `SCAN_CACHE_VERSION`,
 * bumped whenever `describeEntry` (what a change records) or the entry format changes.
 */

/** Bump when what a `LayerChange` means, or how it is derived from a tar entry, changes. */
export const SCAN_CACHE_VERSION = 1;
const FORMAT = 'slipway-layer-scan';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface LayerScan {
  /** `sha256:` of the uncompressed tar, as measured when the layer was scanned. */
  diffId: string;
  /** The layer's entries in archive order, as `describeEntry` summarized them. */
  changes: readonly LayerChange[];
}

export interface LayerScanCacheOptions {
  /**
   * Directory for the on-disk cache (created, mode 0700). Default: none, memory only. Whoever can write
   * here decides what executables an injected image allows, so give it the protection of Slipway's
   * `dataDir`, where the pipeline keeps it.
   */
  dir?: string;
  /** Memory budget of the LRU in front of the disk, counted in serialized bytes. Default 64 MiB. */
  maxMemoryBytes?: number;
  /**
   * Largest entry cached, serialized. A layer with more entries than fit is scanned every time: its
   * cache file would cost about as much to read as the layer. Default 32 MiB (some 250k entries).
   */
  maxEntryBytes?: number;
  /**
   * Bound of the directory. Entries are touched when used; beyond the bound the least recently used go
   * (checked at most every `pruneIntervalMs`, by whichever process writes next). Default 1 GiB.
   */
  maxDiskBytes?: number;
  /** How often the directory is checked against `maxDiskBytes`. Default 10 minutes. */
  pruneIntervalMs?: number;
  /** Told when an entry on disk is ignored (unreadable, corrupt, another key) or cannot be written. */
  onIgnored?: (digest: string, reason: string) => void;
}

const DEFAULTS = { maxMemoryBytes: 64 * 1024 * 1024, maxEntryBytes: 32 * 1024 * 1024, maxDiskBytes: 1024 * 1024 * 1024, pruneIntervalMs: 10 * 60 * 1000 };
/** Its mtime is when the directory was last checked against its bound, by any process sharing it. */
const PRUNED_MARKER = '.pruned';
/** A temporary file this old was left by a writer that died before its rename. */
const STALE_TMP_MS = 60 * 60 * 1000;

/** Only well-formed digests become file names: a manifest is untrusted input and must not pick a path. */
const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

interface Header {
  format: typeof FORMAT;
  version: number;
  digest: string;
  compression: LayerCompression;
  diffId: string;
  entries: number;
  /** Hex SHA-256 of the body (the bytes after the header line): catches truncation and bit rot. */
  body: string;
}

/**
 * Serialized change, one JSON array each, kept short because a distro layer has tens of thousands:
 * `[name, 'f', mode, size, sha256 | null]`, `[name, 's' | 'h', linkname]`, `[name, 'd' | 'o']`.
 */
type Row = [string, 'f', number, number, string | null] | [string, 's' | 'h', string] | [string, 'd' | 'o'];

function toRow(c: LayerChange): Row {
  switch (c.type) {
    case 'file':
      return [c.name, 'f', c.mode, c.size, c.sha256 ?? null];
    case 'symlink':
      return [c.name, 's', c.linkname];
    case 'hardlink':
      return [c.name, 'h', c.linkname];
    case 'directory':
      return [c.name, 'd'];
    default:
      return [c.name, 'o'];
  }
}

/** Strict: anything but exactly what `toRow` writes makes the whole entry invalid. */
function fromRow(row: unknown): LayerChange | undefined {
  if (!Array.isArray(row) || typeof row[0] !== 'string') return undefined;
  const [name, tag] = row as [string, unknown];
  switch (tag) {
    case 'f': {
      const [, , mode, size, sha256] = row as unknown[];
      if (row.length !== 5 || !Number.isInteger(mode) || (mode as number) < 0 || (mode as number) > 0o7777) return undefined;
      if (!Number.isSafeInteger(size) || (size as number) < 0) return undefined;
      if (sha256 !== null && (typeof sha256 !== 'string' || !HEX64.test(sha256))) return undefined;
      return { type: 'file', name, mode: mode as number, size: size as number, sha256: sha256 ?? undefined };
    }
    case 's':
    case 'h':
      if (row.length !== 3 || typeof row[2] !== 'string') return undefined;
      return { type: tag === 's' ? 'symlink' : 'hardlink', name, linkname: row[2] };
    case 'd':
    case 'o':
      if (row.length !== 2) return undefined;
      return { type: tag === 'd' ? 'directory' : 'other', name };
    default:
      return undefined;
  }
}

interface MemoryEntry {
  scan: LayerScan;
  bytes: number;
}

/**
 * A cache of layer scans: a bounded LRU in memory in front of one file per layer on disk. It only
 * saves work: every failure to read or write is a miss, and what it returns was validated field by
 * field. Safe for several processes sharing the directory (files appear by atomic rename, and two
 * writers of one key write the same facts).
 */
export class LayerScanCache {
  private readonly dir: string | undefined;
  private readonly maxMemoryBytes: number;
  private readonly maxEntryBytes: number;
  private readonly maxDiskBytes: number;
  private readonly pruneIntervalMs: number;
  private readonly onIgnored: ((digest: string, reason: string) => void) | undefined;
  /** Insertion order is recency: a hit moves the key to the end, eviction takes from the front. */
  private readonly memory = new Map<string, MemoryEntry>();
  private memoryBytes = 0;
  private dirReady: Promise<void> | undefined;

  constructor(options: LayerScanCacheOptions = {}) {
    this.dir = options.dir === undefined ? undefined : join(options.dir, `layer-scan-v${SCAN_CACHE_VERSION}`);
    this.maxMemoryBytes = Math.max(0, options.maxMemoryBytes ?? DEFAULTS.maxMemoryBytes);
    this.maxEntryBytes = Math.max(0, options.maxEntryBytes ?? DEFAULTS.maxEntryBytes);
    this.maxDiskBytes = Math.max(0, options.maxDiskBytes ?? DEFAULTS.maxDiskBytes);
    this.pruneIntervalMs = Math.max(0, options.pruneIntervalMs ?? DEFAULTS.pruneIntervalMs);
    this.onIgnored = options.onIgnored;
  }

  /** Budget for one entry; the scanner stops collecting changes beyond it. */
  get entryBudget(): number {
    return this.maxEntryBytes;
  }

  /** The scan of the blob `digest` read with `compression`, or undefined (never cached, or not trustworthy). */
  async get(digest: string, compression: LayerCompression): Promise<LayerScan | undefined> {
    if (!DIGEST.test(digest)) return undefined;
    const key = `${digest}.${compression}`;
    const hit = this.memory.get(key);
    if (hit) {
      this.memory.delete(key);
      this.memory.set(key, hit);
      return hit.scan;
    }
    if (this.dir === undefined) return undefined;
    let file: Buffer;
    try {
      file = await readFile(this.path(digest, compression));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onIgnored?.(digest, `unreadable: ${(err as Error).message}`);
      return undefined;
    }
    const scan = this.parse(file, digest, compression);
    if (typeof scan === 'string') {
      this.onIgnored?.(digest, scan);
      return undefined;
    }
    this.remember(key, scan, file.length);
    // Recency for pruning; a failure only makes the entry look older.
    const now = new Date();
    await utimes(this.path(digest, compression), now, now).catch(() => undefined);
    return scan;
  }

  /** Records a complete, verified scan. Never throws: a cache that cannot be written is only slower. */
  async put(digest: string, compression: LayerCompression, scan: LayerScan): Promise<void> {
    if (!DIGEST.test(digest) || !SHA256_DIGEST.test(scan.diffId)) return;
    const body = Buffer.from(JSON.stringify(scan.changes.map(toRow)));
    if (body.length > this.maxEntryBytes) return;
    this.remember(`${digest}.${compression}`, scan, body.length);
    if (this.dir === undefined) return;
    const header: Header = {
      format: FORMAT,
      version: SCAN_CACHE_VERSION,
      digest,
      compression,
      diffId: scan.diffId,
      entries: scan.changes.length,
      body: createHash('sha256').update(body).digest('hex'),
    };
    const path = this.path(digest, compression);
    // Written beside its final name and renamed: a reader sees no file or a whole one, never a partial write.
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      this.dirReady ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
      await this.dirReady;
      await writeFile(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]), { mode: 0o600 });
      await rename(tmp, path);
    } catch (err) {
      this.dirReady = undefined;
      await rm(tmp, { force: true }).catch(() => undefined);
      this.onIgnored?.(digest, `not written: ${(err as Error).message}`);
      return;
    }
    await this.pruneWhenDue();
  }

  /**
   * Deletes the least recently used entries until the directory is within 90% of `maxDiskBytes`, and
   * temporary files left by writers that died. Never throws; entries another process is reading just
   * become misses.
   */
  async prune(): Promise<void> {
    if (this.dir === undefined) return;
    const dir = this.dir;
    const now = Date.now();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    const entries: { path: string; size: number; used: number }[] = [];
    let total = 0;
    for (const name of names) {
      if (name === PRUNED_MARKER) continue;
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      if (name.endsWith('.tmp')) {
        if (now - st.mtimeMs > STALE_TMP_MS) await rm(path, { force: true }).catch(() => undefined);
        continue;
      }
      entries.push({ path, size: st.size, used: st.mtimeMs });
      total += st.size;
    }
    if (total <= this.maxDiskBytes) return;
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total <= this.maxDiskBytes * 0.9) break;
      await rm(e.path, { force: true }).catch(() => undefined);
      total -= e.size;
    }
  }

  /** One stat per write; the walk of the directory at most once per interval across processes. */
  private async pruneWhenDue(): Promise<void> {
    const marker = join(this.dir!, PRUNED_MARKER);
    const last = await stat(marker).then(
      (st) => st.mtimeMs,
      () => 0,
    );
    if (Date.now() - last < this.pruneIntervalMs) return;
    try {
      await writeFile(marker, '');
    } catch {
      return;
    }
    await this.prune();
  }

  private path(digest: string, compression: LayerCompression): string {
    return join(this.dir!, `${digest.replace(':', '-')}.${compression}`);
  }

  private remember(key: string, scan: LayerScan, bytes: number): void {
    const old = this.memory.get(key);
    if (old) {
      this.memory.delete(key);
      this.memoryBytes -= old.bytes;
    }
    if (bytes > this.maxMemoryBytes) return;
    this.memory.set(key, { scan, bytes });
    this.memoryBytes += bytes;
    for (const [k, e] of this.memory) {
      if (this.memoryBytes <= this.maxMemoryBytes) break;
      this.memory.delete(k);
      this.memoryBytes -= e.bytes;
    }
  }

  /** The entry, or why it is ignored. */
  private parse(file: Buffer, digest: string, compression: LayerCompression): LayerScan | string {
    if (file.length > this.maxEntryBytes + 4096) return 'larger than any entry this cache writes';
    const nl = file.indexOf(0x0a);
    if (nl < 0) return 'no header line';
    let header: Partial<Header>;
    let rows: unknown;
    try {
      header = JSON.parse(file.subarray(0, nl).toString('utf8')) as Partial<Header>;
      if (header === null || typeof header !== 'object') return 'header is not an object';
      if (header.format !== FORMAT || header.version !== SCAN_CACHE_VERSION) return 'another format or version';
      // The file name is the key, but the content must say so too: a file copied or renamed into place is no hit.
      if (header.digest !== digest || header.compression !== compression) return `holds ${String(header.digest)} (${String(header.compression)})`;
      if (typeof header.diffId !== 'string' || !SHA256_DIGEST.test(header.diffId)) return 'no valid diff_id';
      const body = file.subarray(nl + 1);
      if (typeof header.body !== 'string' || createHash('sha256').update(body).digest('hex') !== header.body) return 'body does not match its checksum';
      rows = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return `not JSON: ${(err as Error).message}`;
    }
    if (!Array.isArray(rows) || rows.length !== header.entries) return 'entry count does not match';
    const changes: LayerChange[] = [];
    for (const row of rows) {
      const change = fromRow(row);
      if (!change) return `malformed change ${JSON.stringify(row).slice(0, 200)}`;
      changes.push(change);
    }
    return { diffId: header.diffId, changes };
  }
}
