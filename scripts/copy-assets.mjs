// Copies what tsc does not: the BuildKit .proto files, loaded at run time next to src/buildkit/proto.ts
// (dist/src/buildkit/proto after the build), and the git post-receive hook Slipway installs in push
// repositories (src/server/git/hook, read next to hook-script.ts). Run by `npm run build`.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'src/buildkit/proto'), join(root, 'dist/src/buildkit/proto'), { recursive: true });
cpSync(join(root, 'src/server/git/hook'), join(root, 'dist/src/server/git/hook'), { recursive: true });
