export { RegistryClient, type ManifestResult, type ManifestHead } from './client.js';
export { RegistryTransport, type RegistryTransportOptions } from './transport.js';
export { parseImageRef, formatImageRef, manifestReference, type ImageRef } from './reference.js';
export { MediaTypes, MANIFEST_ACCEPT, isIndexType, type Descriptor, type ImageManifest, type ImageIndex } from './media-types.js';
export { credentialsFromDockerConfig, serverAddressFor, type RegistryCredentials } from './credentials.js';
export { RegistryAuth, type CredentialSource, type ConfiguredRegistry, type FoundCredentials, type RegistryAuthOptions } from './auth.js';
export { sha256Digest, DigestVerifier } from './digest.js';
export { parseChallenge, type Challenge } from './www-authenticate.js';
