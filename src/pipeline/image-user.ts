import { SlipwayError } from '../core/errors.js';
import { compressionOf, openLayerTar, readTar, splitPath } from '../injection/index.js';
import type { Descriptor, RegistryClient } from '../registry/index.js';

/**
 * The numeric uid an image's `User` makes the container run as, resolved the way runc does it
 * (libcontainer/user, GetExecUser), so that no spelling of root passes a policy as "not root":
 * - `user[:group]`: only the part before the first colon decides the uid;
 * - empty user: root (the runtime's default);
 * - numeric (Go's strconv.Atoi: optional sign, any leading zeros, so `00`, `+0`, `-0` are all uid 0):
 *   that number, never looked up;
 * - a name: the first /etc/passwd entry with that name, read from the image's layers.
 * Anything that cannot be decided (no /etc/passwd, name not in it, a malformed entry, a passwd that is a
 * link, an unreadable layer) is `null`: unknown, and the default policy fails closed on unknown.
 */

const MAX_UID = 2 ** 32 - 1;
/** A passwd larger than this is not one a real image ships; it is not read (unknown). */
const MAX_PASSWD = 1024 * 1024;

/** `user[:group]` → the user part (runc splits on the first colon). */
export function userPart(spec: string): string {
  const colon = spec.indexOf(':');
  return colon < 0 ? spec : spec.slice(0, colon);
}

/** A uid written as a number, as strconv.Atoi reads it; undefined when it is not a number; null when out of range. */
export function numericUid(text: string): number | null | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  if (Object.is(value, -0)) return 0;
  return Number.isSafeInteger(value) && value >= 0 && value <= MAX_UID ? value : null;
}

/** The uid of the first passwd entry named `name`; null when there is none or its uid field is not a clean number. */
export function uidFromPasswd(passwd: string, name: string): number | null {
  for (const raw of passwd.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const fields = line.split(':');
    if (fields[0] !== name) continue;
    // runc ignores a parse error here and would run as uid 0: refuse to guess instead.
    const uid = /^[0-9]+$/.test(fields[2] ?? '') ? Number(fields[2]) : NaN;
    return Number.isSafeInteger(uid) && uid <= MAX_UID ? uid : null;
  }
  return null;
}

/**
 * The uid for `User`. `passwd` is asked for only when the user is a name: it returns the image's
 * /etc/passwd text, undefined when the image has none, null when it cannot tell.
 */
export async function resolveUid(user: string, passwd: () => Promise<string | null | undefined>): Promise<number | null> {
  const part = userPart(user);
  if (part === '') return 0;
  const numeric = numericUid(part);
  if (numeric !== undefined) return numeric;
  const text = await passwd();
  return typeof text === 'string' ? uidFromPasswd(text, part) : null;
}

type LayerVerdict = { kind: 'file'; text: string } | { kind: 'deleted' } | { kind: 'unknown' } | { kind: 'absent' };

/**
 * /etc/passwd as the container sees it: layers are read from the top down, and the first one that
 * writes, deletes (whiteout, opaque `etc/`) or shadows it decides (OCI image-spec layer.md, "Whiteouts").
 * Only layers above the one that has it are downloaded.
 */
export async function readImagePasswd(
  client: RegistryClient,
  repo: string,
  layers: readonly Descriptor[],
  signal?: AbortSignal,
): Promise<string | null | undefined> {
  try {
    for (let i = layers.length - 1; i >= 0; i--) {
      const verdict = await passwdInLayer(client, repo, layers[i]!, signal);
      if (verdict.kind === 'file') return verdict.text;
      if (verdict.kind === 'deleted') return undefined;
      if (verdict.kind === 'unknown') return null;
    }
    return undefined;
  } catch (err) {
    // A layer this Node cannot decompress or a broken tar: the user stays unknown (fail closed), the gate says so.
    if (err instanceof SlipwayError && (err.code === 'SLW_INJECT_LAYER' || err.code === 'SLW_INJECT_UNSUPPORTED')) return null;
    throw err;
  }
}

async function passwdInLayer(client: RegistryClient, repo: string, layer: Descriptor, signal: AbortSignal | undefined): Promise<LayerVerdict> {
  const { blob, tar } = await openLayerTar(client, repo, layer, compressionOf(layer), signal);
  let verdict: LayerVerdict = { kind: 'absent' };
  try {
    for await (const entry of readTar(tar as AsyncIterable<Buffer>)) {
      const path = splitPath(entry.name).join('/');
      if (path === 'etc/passwd') {
        if (entry.type !== 'file' || entry.size > MAX_PASSWD) return { kind: 'unknown' };
        const chunks: Buffer[] = [];
        for await (const c of entry.body) chunks.push(c);
        // The file in this layer wins over an opaque whiteout of etc/ in the same layer.
        return { kind: 'file', text: Buffer.concat(chunks).toString('utf8') };
      }
      if (path === 'etc' && entry.type !== 'directory') verdict = { kind: 'unknown' };
      else if (path === 'etc/.wh.passwd' || path === 'etc/.wh..wh..opq' || path === '.wh.etc') {
        if (verdict.kind !== 'unknown') verdict = { kind: 'deleted' };
      }
    }
    return verdict;
  } finally {
    tar.destroy();
    blob.destroy();
  }
}
