/**
 * A minimal, deterministic ustar writer for Slipway's own layer: fixed mtime, uid/gid 0, no user or
 * group names, entries in the order given. Identical input gives identical bytes, so injecting the same
 * image twice gives the same layer digest and therefore the same image digest.
 */

export interface TarFile {
  /** Relative archive path without a leading `/` (OCI layers name `etc/passwd`); latin1, one char per byte. */
  name: string;
  type: 'file' | 'directory';
  mode: number;
  data?: Buffer;
}

const BLOCK = 512;
/** mtime of every entry: the epoch. Reproducible-builds style; nothing in the container reads it. */
const MTIME = 0;

function octal(value: number, len: number): string {
  return value.toString(8).padStart(len - 1, '0') + '\0';
}

function header(file: TarFile): Buffer {
  const h = Buffer.alloc(BLOCK);
  const name = file.type === 'directory' && !file.name.endsWith('/') ? `${file.name}/` : file.name;
  if (name.length > 100) throw new Error(`tar writer: ${name} is longer than a ustar name field`);
  const size = file.type === 'file' ? (file.data?.length ?? 0) : 0;
  h.write(name, 0, 100, 'latin1');
  h.write(octal(file.mode, 8), 100, 8, 'latin1');
  h.write(octal(0, 8), 108, 8, 'latin1');
  h.write(octal(0, 8), 116, 8, 'latin1');
  h.write(octal(size, 12), 124, 12, 'latin1');
  h.write(octal(MTIME, 12), 136, 12, 'latin1');
  h.write(file.type === 'directory' ? '5' : '0', 156, 1, 'latin1');
  h.write('ustar\u000000', 257, 8, 'latin1');
  h.write(octal(0, 8), 329, 8, 'latin1');
  h.write(octal(0, 8), 337, 8, 'latin1');
  // The checksum is computed with its own field as eight spaces, then written as six octal digits, NUL, space.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** The whole archive, with the two zero blocks that end it. */
export function writeTar(files: readonly TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(header(file));
    if (file.type === 'file' && file.data && file.data.length > 0) {
      parts.push(file.data);
      const pad = (BLOCK - (file.data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
