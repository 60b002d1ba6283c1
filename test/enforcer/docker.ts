import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Docker Engine and enforcer helpers for the injection suites. The Engine runs with `--bridge=none`
 * (scripts/lib/services.sh), so containers use host networking and builds need no network at all.
 * Debian's /usr/bin/docker (20.10) drives the Engine's built-in BuildKit; /usr/local/bin/docker has
 * no buildx.
 */

export const DOCKER = process.env.SLIPWAY_DOCKER_CLI ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
export const BASE_IMAGE = '127.0.0.1:5000/slipway/busybox:latest';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ENFORCER_DIR = join(ROOT, 'enforcer');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function docker(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(DOCKER, args, { env: { ...process.env, DOCKER_BUILDKIT: '1' }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function dockerOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A build-context file: its content and mode (COPY keeps the mode). */
export type ContextFile = string | Buffer | { data: string | Buffer; mode: number };

/** Builds a context with BuildKit (no network: RUN steps need none here) and pushes it. */
export async function buildAndPush(tag: string, files: Record<string, ContextFile>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-enforcer-ctx-'));
  try {
    for (const [path, file] of Object.entries(files)) {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      const { data, mode } = typeof file === 'string' || Buffer.isBuffer(file) ? { data: file, mode: 0o644 } : file;
      writeFileSync(full, data);
      chmodSync(full, mode);
    }
    await dockerOk(['build', '--network=none', '-q', '-t', tag, dir], 120_000);
    await dockerOk(['push', '-q', tag], 120_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The production enforcer and the xexec helper, built with `make -C enforcer` when missing. */
export function enforcerArtifacts(): { enforcer: string; xexec: string } {
  const enforcer = join(ENFORCER_DIR, 'build', 'enforcer');
  const xexec = join(ENFORCER_DIR, 'build', 'helpers', 'xexec');
  if (!existsSync(enforcer)) execFileSync('make', ['-C', ENFORCER_DIR, 'build/enforcer'], { stdio: 'pipe' });
  if (!existsSync(xexec)) execFileSync('make', ['-C', ENFORCER_DIR, 'build/helpers/xexec'], { stdio: 'pipe' });
  return { enforcer, xexec };
}

/** test/enforcer/fixtures/app.c as a static musl binary (musl-tools, as the enforcer itself needs). */
export function compileApp(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-enforcer-app-'));
  try {
    const out = join(dir, 'app');
    execFileSync('musl-gcc', ['-static', '-O2', '-o', out, fileURLToPath(new URL('./fixtures/app.c', import.meta.url))], { stdio: 'pipe' });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `slipway-enforcer: {json}` decision lines from a container's stderr. */
/** One decision line of the enforcer (enforcer/README.md, "Decision log"). */
export interface Decision {
  v: number;
  decision: 'allowed' | 'denied' | 'audited';
  gate: 'landlock' | 'seccomp';
  syscall: string;
  path: string;
  sha256: string | null;
  pid: number;
  uid: number | null;
  parent: string | null;
  rule: string;
  detail: string;
}

export function decisions(stderr: string): Decision[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('slipway-enforcer: {'))
    .map((l) => JSON.parse(l.slice('slipway-enforcer: '.length)) as Decision);
}
