import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SlipwayError } from '../core/errors.js';

/**
 * AES-256-GCM for an app's secrets at rest: in the store (`slipway env … --secret`) and in the revision
 * specs that carry them to the targets. A sealed value is `slw1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>`;
 * the additional authenticated data is the app and the variable's name, so a sealed value copied to
 * another app's or variable's row does not open. The key id (the first 8 hex digits of the key's SHA-256)
 * says which key sealed a value without revealing it, so a wrong key fails with that message rather than
 * as a corrupt value.
 */

const PREFIX = 'slw1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const KEY_BYTES = 32;

/** What the targets and the pipeline need: sealing and opening one variable's value. */
export interface SecretSealer {
  seal(app: string, name: string, value: string): string;
  open(app: string, name: string, sealed: string): string;
}

const aad = (app: string, name: string) => Buffer.from(`${app}\0${name}`, 'utf8');

export class SecretBox implements SecretSealer {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new SlipwayError('SLW_SECRET_KEY', `the secrets key must be ${KEY_BYTES} bytes, not ${key.length}`);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  seal(app: string, name: string, value: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(app, name));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return `${PREFIX}:${this.keyId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(app: string, name: string, sealed: string): string {
    const [prefix, keyId, data, ...rest] = sealed.split(':');
    const raw = data === undefined ? Buffer.alloc(0) : Buffer.from(data, 'base64url');
    if (prefix !== PREFIX || rest.length || raw.length < IV_BYTES + TAG_BYTES)
      throw new SlipwayError('SLW_SECRET_KEY', `secret ${name} of app ${app} is not a value Slipway sealed; set it again with slipway env ${app} set --secret`);
    if (keyId !== this.keyId)
      throw new SlipwayError(
        'SLW_SECRET_KEY',
        `secret ${name} of app ${app} was sealed with key ${keyId}, but this process has key ${this.keyId}: give every Slipway process the same key (secrets.keyEnv), or set the secret again`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(aad(app, name));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SlipwayError(
        'SLW_SECRET_KEY',
        `secret ${name} of app ${app} does not authenticate: it was changed in the database or belongs to another app or name; set it again with slipway env ${app} set --secret`,
      );
    }
  }
}
