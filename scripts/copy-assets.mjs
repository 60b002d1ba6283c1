// Copies what tsc does not: the BuildKit .proto files, loaded at run time next to src/buildkit/proto.ts
// (dist/src/buildkit/proto after the build). Run by `npm run build`.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'src/buildkit/proto'), join(root, 'dist/src/buildkit/proto'), { recursive: true });
