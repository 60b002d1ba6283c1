/**
 * PEM as Go's `encoding/pem` reads and writes it (cosign stores both key files this way): one block,
 * `-----BEGIN <TYPE>-----`, standard base64 wrapped at 64 columns, `-----END <TYPE>-----`, newline.
 */

export interface PemBlock {
  type: string;
  bytes: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/;

/** The first PEM block in `text`; undefined when there is none (as `pem.Decode` returns nil). */
export function decodePem(text: string | Buffer): PemBlock | undefined {
  const match = BLOCK.exec(typeof text === 'string' ? text : text.toString('utf8'));
  if (!match) return undefined;
  const body = (match[2] ?? '').replace(/\s+/g, '');
  // Headers (`Proc-Type: …`) are not part of any format cosign writes; a colon means they are there.
  if (body.includes(':') || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return undefined;
  return { type: match[1] ?? '', bytes: Buffer.from(body, 'base64') };
}

export function encodePem(type: string, bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${type}-----\n`;
}
