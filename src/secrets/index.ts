export { SecretBox, KEY_BYTES, type SecretSealer } from './box.js';
export { loadSecretKey, SECRETS_KEY_FILE, type LoadedSecretKey } from './key.js';
