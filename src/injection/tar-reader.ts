import { SlipwayError } from '../core/errors.js';
import { ByteSource } from './byte-source.js';

/**
 * A streaming reader of the tar dialects image layers use (OCI image-spec layer.md: "Layer Changeset
 * Format" is a POSIX tar): ustar with its `prefix` field, PAX extended headers (`path`, `linkpath`,
 * `size`) and GNU long names (`L`/`K`), sizes in octal or GNU base-256. Bodies are streamed, never
 * buffered. Names are kept as latin1 strings, one char per byte, so a file name's exact bytes survive
 * to the manifest whatever its encoding.
 */

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'directory' | 'other';

export interface TarEntry {
  /** As written in the archive (latin1, one char per byte): `usr/bin/env`, `./bin/`, `.wh.foo`. */
  name: string;
  type: TarEntryType;
  /** Permission bits, `st_mode & 07777`. */
  mode: number;
  size: number;
  /** Target of a hard link (an archive path) or a symlink (any text). */
  linkname: string;
  /** The body, for `file` entries; must be consumed before the next entry is asked for, or is skipped. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
const EMPTY: AsyncIterable<Buffer> = { async *[Symbol.asyncIterator]() {} };

const bad = (why: string) => new SlipwayError('SLW_INJECT_LAYER', `layer is not a valid tar archive: ${why}`);

/** A NUL-terminated header field, bytes preserved. */
function text(h: Buffer, start: number, len: number): string {
  const field = h.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('latin1');
}

/** Numeric fields: octal text, or GNU base-256 (high bit of the first byte set) for large values. */
function number(h: Buffer, start: number, len: number, what: string): number {
  const field = h.subarray(start, start + len);
  if ((field[0]! & 0x80) !== 0) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < len; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw bad(`${what} is too large`);
    return value;
  }
  const digits = text(h, start, len).trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) throw bad(`${what} "${digits}" is not octal`);
  return parseInt(digits, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = number(h, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === stored;
}

/** PAX records: `<len> <key>=<value>\n`, len counting the whole record (POSIX pax, "extended header"). */
function parsePax(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(body.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || at + len > body.length) throw bad('malformed PAX record');
    const record = body.subarray(space + 1, at + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) out.set(record.subarray(0, eq).toString('latin1'), record.subarray(eq + 1).toString('latin1'));
    at += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '5': 'directory',
  '3': 'other',
  '4': 'other',
  '6': 'other',
};
/** Metadata members are bounded: a PAX header or long name bigger than this is not a real layer. */
const MAX_META = 1024 * 1024;

export async function* readTar(source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>): AsyncGenerator<TarEntry> {
  const src = new ByteSource(source);
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await src.read(BLOCK, 'a header');
    // A missing end-of-archive marker is tolerated (some writers omit it); an all-zero block ends it.
    if (h === undefined || h.every((b) => b === 0)) break;
    if (!checksumOk(h)) throw bad('header checksum mismatch');
    const flag = String.fromCharCode(h[156]!);
    let size = number(h, 124, 12, 'size');
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META) throw bad(`metadata member of ${size} bytes`);
      const body = (await src.read(padded, 'a metadata member')) ?? Buffer.alloc(0);
      const data = body.subarray(0, size);
      // Global PAX headers ('g') carry archive-wide defaults that no layer writer uses for paths; skipped.
      if (flag === 'x') pax = parsePax(data);
      else if (flag === 'L') longName = text(data, 0, data.length);
      else if (flag === 'K') longLink = text(data, 0, data.length);
      continue;
    }
    const type = TYPES[flag];
    if (type === undefined) throw bad(`entry type "${flag}" (GNU sparse or vendor types are not supported in image layers)`);
    const posix = h.subarray(257, 263).toString('latin1') === 'ustar\0';
    const prefix = posix ? text(h, 345, 155) : '';
    const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    const linkname = pax.get('linkpath') ?? longLink ?? text(h, 157, 100);
    const paxSize = pax.get('size');
    if (paxSize !== undefined) {
      size = Number(paxSize);
      if (!Number.isSafeInteger(size) || size < 0) throw bad(`PAX size "${paxSize}"`);
    }
    pax = new Map();
    longName = longLink = undefined;
    // Only regular files have data; a hard link's size field is 0 or, in some writers, the target's size.
    const dataSize = type === 'file' ? size : 0;
    const skipAfter = Math.ceil(dataSize / BLOCK) * BLOCK - dataSize;
    // The consumer may read the body (to hash it) or not; whatever it left is skipped before the next header.
    let read = 0;
    let started = false;
    const body: AsyncIterable<Buffer> =
      dataSize === 0
        ? EMPTY
        : {
            async *[Symbol.asyncIterator]() {
              if (started) throw new Error(`tar body of ${name} read twice`);
              started = true;
              for await (const chunk of src.stream(dataSize, name)) {
                read += chunk.length;
                yield chunk;
              }
            },
          };
    yield { name, type, mode: number(h, 100, 8, 'mode') & 0o7777, size: dataSize, linkname, body };
    await src.skip(dataSize - read, name);
    await src.skip(skipAfter, 'padding');
  }
  await src.drain();
}
