import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectEnforcer, type RuntimePolicy } from '../../src/injection/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { SHARED_REGISTRY } from '../helpers/registry.js';
import { BASE_IMAGE, buildAndPush, compileApp, decisions, docker, dockerOk, enforcerArtifacts, type RunResult } from './docker.js';

/**
 * Real containers: images built here with BuildKit (busybox-static based, and FROM scratch with a static
 * musl program), pushed to the local registry, injected through the registry API, then pulled and run in
 * Docker Engine with its DEFAULT seccomp profile and host networking. Each behaviour is compared with
 * the original image where the original has one to compare with.
 */

const REPO = `${SHARED_REGISTRY}/slipway-test/enforcer-${randomBytes(4).toString('hex')}`;
const client = new RegistryClient({ host: SHARED_REGISTRY });
const created: string[] = [];

/** Variants of Entrypoint and Cmd (Dockerfile lines after FROM the busybox test image), run with `args`. */
const VARIANTS = [
  { name: 'exec-form entrypoint + cmd', lines: ['ENTRYPOINT ["/usr/local/bin/app","ep"]', 'CMD ["a","b c"]'], args: [], expected: 'app: ep a b c\n' },
  { name: 'exec-form entrypoint + run arguments', lines: ['ENTRYPOINT ["/usr/local/bin/app","ep"]', 'CMD ["a","b"]'], args: ['x', 'y'], expected: 'app: ep x y\n' },
  { name: 'shell-form entrypoint + cmd', lines: ['ENTRYPOINT echo shell-ep "$0" "$@"', 'CMD ["c1","c2"]'], args: [], expected: 'shell-ep c1 c2\n' },
  { name: 'exec-form cmd, no entrypoint', lines: ['CMD ["echo","cmd only"]'], args: [], expected: 'cmd only\n' },
  { name: 'shell-form cmd, no entrypoint', lines: ['ENV GREETING=hi', 'CMD echo "$GREETING" from a shell-form cmd; app tail'], args: [], expected: 'hi from a shell-form cmd\napp: tail\n' },
  { name: 'cmd replaced by run arguments', lines: ['CMD ["echo","never"]'], args: ['app', 'override'], expected: 'app: override\n' },
  { name: 'entrypoint ["/bin/sh","-c"] + cmd script', lines: ['ENTRYPOINT ["/bin/sh","-c"]', 'CMD ["echo via sh -c; app last"]'], args: [], expected: 'via sh -c\napp: last\n' },
  { name: 'entrypoint only (cmd reset)', lines: ['ENTRYPOINT ["/usr/local/bin/app","only"]'], args: [], expected: 'app: only\n' },
  { name: 'relative entrypoint from WORKDIR', lines: ['WORKDIR /usr/local/bin', 'ENTRYPOINT ["./app","relative"]'], args: [], expected: 'app: relative\n' },
] as const;

interface Pair {
  original: string;
  injected: string;
}

const images: { bb?: Pair; audit?: string; reportAll?: string; scratch?: Pair; nonroot?: Pair; variants: Pair[] } = { variants: [] };

async function inject(original: string, tag: string, policy: Partial<RuntimePolicy> = {}): Promise<string> {
  const result = await injectEnforcer(client, original, `${REPO}:${tag}`, { policy, labels: { 'dev.slipway.build': 'test' } });
  created.push(`${REPO}:${tag}`);
  await dockerOk(['pull', '-q', result.ref]);
  return result.ref;
}

async function build(tag: string, files: Parameters<typeof buildAndPush>[1]): Promise<string> {
  const ref = `${REPO}:${tag}`;
  await buildAndPush(ref, files);
  created.push(ref);
  return ref;
}

const run = (image: string, args: readonly string[] = [], opts: string[] = []): Promise<RunResult> => docker(['run', '--rm', '--network', 'host', ...opts, image, ...args]);

describe('injected images in Docker Engine', () => {
  beforeAll(async () => {
    const { xexec } = enforcerArtifacts();
    const app = compileApp();
    const exe = (data: Buffer) => ({ data, mode: 0o755 });
    const bb = await build('bb', {
      Dockerfile: [
        `FROM ${BASE_IMAGE}`,
        'RUN ["/bin/busybox","mkdir","-m","1777","/tmp"]',
        'COPY app xexec /usr/local/bin/',
        // Not an image executable: base64 text, decoded into a new binary at run time.
        'COPY app.b64 /opt/app.b64',
        'ENV PATH=/usr/local/bin:/bin',
        'CMD ["sh"]',
      ].join('\n'),
      app: exe(app),
      xexec: exe(readFileSync(xexec)),
      'app.b64': app.toString('base64'),
    });
    images.bb = { original: bb, injected: await inject(bb, 'bb-injected') };
    images.audit = await inject(bb, 'bb-audit', { mode: 'audit' });
    images.reportAll = await inject(bb, 'bb-report-all', { report: 'all' });
    const scratch = await build('scratch', { Dockerfile: 'FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\nCMD ["hello","from scratch"]\n', app: exe(app) });
    images.scratch = { original: scratch, injected: await inject(scratch, 'scratch-injected') };
    const nonroot = await build('nonroot', { Dockerfile: `FROM ${bb}\nUSER 1000:1000\n` });
    images.nonroot = { original: nonroot, injected: await inject(nonroot, 'nonroot-injected') };
    for (const [i, v] of VARIANTS.entries()) {
      const original = await build(`variant-${i}`, { Dockerfile: [`FROM ${bb}`, ...v.lines].join('\n') });
      images.variants.push({ original, injected: await inject(original, `variant-${i}-injected`) });
    }
  }, 300_000);

  afterAll(async () => {
    const local = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', REPO]);
    const tags = [...new Set([...created, ...local.stdout.split('\n').filter((l) => l && !l.endsWith(':<none>'))])];
    if (tags.length) await docker(['rmi', '-f', ...tags]);
    const dangling = await docker(['images', '-q', '--filter', `reference=${REPO}`]);
    if (dangling.stdout.trim()) await docker(['rmi', '-f', ...dangling.stdout.trim().split('\n')]);
  }, 60_000);

  it.each(VARIANTS.map((v, i) => [v.name, i] as const))('prints exactly what the original printed: %s', async (_name, i) => {
    const v = VARIANTS[i]!;
    const pair = images.variants[i]!;
    const [before, after] = await Promise.all([run(pair.original, v.args), run(pair.injected, v.args)]);
    expect(before).toMatchObject({ code: 0, stdout: v.expected });
    expect(after.stdout).toBe(before.stdout);
    expect(after.code).toBe(before.code);
  });

  it('runs a FROM scratch static binary with its Entrypoint and Cmd', async () => {
    const [before, after] = await Promise.all([run(images.scratch!.original), run(images.scratch!.injected)]);
    expect(before).toMatchObject({ code: 0, stdout: 'app: hello from scratch\n' });
    expect(after).toMatchObject({ code: 0, stdout: before.stdout });
    const config = JSON.parse(await dockerOk(['inspect', '--format', '{{json .Config}}', images.scratch!.injected])) as { Entrypoint: string[]; Cmd: string[]; Labels: Record<string, string> };
    expect(config.Entrypoint).toEqual(['/.slipway/enforcer', '--', '/app']);
    expect(config.Cmd).toEqual(['hello', 'from scratch']);
    expect(JSON.parse(config.Labels['dev.slipway.enforcer.entrypoint']!)).toEqual(['/app']);
  });

  it.each([
    ['exit 0', ['sh', '-c', 'exit 0']],
    ['exit 3 from the shell', ['sh', '-c', 'exit 3']],
    ['exit 7 from an image binary', ['app', 'exit', '7']],
    ['a command that does not exist (127)', ['no-such-command']],
  ])('exit codes match the original image: %s', async (_name, args) => {
    const [before, after] = await Promise.all([run(images.bb!.original, args), run(images.bb!.injected, args)]);
    expect(after.code).toBe(before.code);
  });

  it('image binaries run: busybox applets, the shell, a static program', async () => {
    const r = await run(images.bb!.injected, ['sh', '-c', 'ls /usr/local/bin && app ok && echo done']);
    expect(r).toMatchObject({ code: 0, stdout: 'app\nxexec\napp: ok\ndone\n' });
    expect(decisions(r.stderr).filter((d) => d.decision === 'denied')).toEqual([]);
    // Docker's default seccomp profile lets the enforcer use Landlock: the fast gate.
    expect(r.stderr).toContain('exec gate: landlock');
  });

  const dropped = 'base64 -d /opt/app.b64 > /tmp/new && chmod +x /tmp/new && /tmp/new hi';

  it('denies a binary written at run time into /tmp in enforce mode (126: the kernel refuses it, EACCES)', async () => {
    const r = await run(images.bb!.injected, ['sh', '-c', dropped]);
    expect(r.code).toBe(126);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('/tmp/new: Permission denied');
    // The Landlock gate leaves exec to the kernel: by default (report no-cost) the enforcer does not see this
    // refusal (README, "Decision log").
    expect(decisions(r.stderr)).toEqual([]);
  });

  it('with report all, the same refusal is reported with path, sha256, uid and parent; image binaries (busybox applets via /proc/self/exe too) run unreported', async () => {
    const r = await run(images.reportAll!, ['sh', '-c', `app ok && ${dropped}`]);
    expect(r.code).toBe(126);
    expect(r.stdout).toBe('app: ok\n');
    expect(r.stderr).toContain('/tmp/new: Permission denied');
    const lines = decisions(r.stderr);
    expect(lines).toEqual([expect.objectContaining({ v: 1, decision: 'denied', gate: 'landlock', syscall: 'execve', path: '/tmp/new', rule: 'not-in-manifest', uid: 0, parent: 'sh' })]);
    expect(lines[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('allows the same binary in audit mode and logs it (seccomp gate)', async () => {
    const r = await run(images.audit!, ['sh', '-c', dropped]);
    expect(r).toMatchObject({ code: 0, stdout: 'app: hi\n' });
    expect(decisions(r.stderr)).toContainEqual(expect.objectContaining({ v: 1, decision: 'audited', gate: 'seccomp', path: '/tmp/new', rule: 'not-in-manifest', uid: 0, parent: 'sh', syscall: 'execve' }));
    const line = decisions(r.stderr).find((d) => d.path === '/tmp/new')!;
    expect(line.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to modify an image binary in place; the original still runs', async () => {
    const r = await run(images.bb!.injected, ['sh', '-c', 'echo >> /usr/local/bin/app; echo w=$?; /usr/local/bin/app hi']);
    expect(r).toMatchObject({ code: 0, stdout: 'w=1\napp: hi\n' });
    expect(r.stderr).toContain('Permission denied');
    const before = await run(images.bb!.original, ['sh', '-c', 'echo >> /usr/local/bin/app; echo w=$?']);
    expect(before.stdout).toBe('w=0\n');
  });

  it('denies a copy of an image binary at a new path', async () => {
    const r = await run(images.bb!.injected, ['sh', '-c', 'cp /usr/local/bin/app /tmp/app2 && /tmp/app2 hi']);
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('/tmp/app2: Permission denied');
  });

  it('refuses a hard link of an image binary into a writable directory', async () => {
    const r = await run(images.bb!.injected, ['sh', '-c', 'ln /usr/local/bin/app /tmp/app-link; echo l=$?']);
    expect(r.stdout).toBe('l=1\n');
    const before = await run(images.bb!.original, ['sh', '-c', 'ln /usr/local/bin/app /tmp/app-link; echo l=$?']);
    expect(before.stdout).toBe('l=0\n');
  });

  it('denies fileless execution (memfd_create + execveat, and through /proc/self/fd); the execveat is reported', async () => {
    for (const how of ['memfd', 'memfdproc']) {
      const r = await run(images.bb!.injected, ['xexec', how, '/usr/local/bin/app']);
      expect(r.code).toBe(126);
      expect(r.stderr).toContain('Permission denied');
      // execveat(fd, "", AT_EMPTY_PATH) is trapped and reported; exec through /proc/self/fd is a plain execve.
      if (how === 'memfd')
        expect(decisions(r.stderr)).toContainEqual(expect.objectContaining({ decision: 'denied', gate: 'landlock', syscall: 'execveat', rule: 'fileless', parent: 'xexec' }));
      else expect(decisions(r.stderr)).toEqual([]);
      // The original image lets it run: the denial is the enforcer's doing.
      const before = await run(images.bb!.original, ['xexec', how, '/usr/local/bin/app']);
      expect(before).toMatchObject({ code: 0 });
    }
  });

  it('refuses memfd_create(MFD_EXEC) and logs it', async () => {
    const r = await run(images.bb!.injected, ['xexec', 'memfdx', '/usr/local/bin/app']);
    expect(r.code).toBe(126);
    expect(decisions(r.stderr)).toContainEqual(expect.objectContaining({ v: 1, decision: 'denied', gate: 'landlock', syscall: 'memfd_create', path: 'memfd:payload', rule: 'memfd-exec', uid: 0, parent: 'xexec' }));
  });

  it('forwards SIGTERM to the app (docker stop) and passes its exit code on', async () => {
    for (const image of [images.bb!.original, images.bb!.injected]) {
      const name = `slipway-enforcer-term-${randomBytes(4).toString('hex')}`;
      await dockerOk(['run', '-d', '--network', 'host', '--name', name, image, 'app', 'wait-term']);
      try {
        for (let i = 0; i < 100 && !(await docker(['logs', name])).stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
        await dockerOk(['stop', '-t', '20', name]);
        expect((await dockerOk(['wait', name])).trim()).toBe('42');
        expect((await docker(['logs', name])).stdout).toBe('ready\napp got SIGTERM\n');
      } finally {
        await docker(['rm', '-f', name]);
      }
    }
  });

  it('reaps orphaned zombies as PID 1', async () => {
    const script = 'for i in 1 2 3 4 5; do (sleep 0.2 &); done; sleep 1.5; cat /proc/[0-9]*/stat';
    const r = await run(images.bb!.injected, ['sh', '-c', script]);
    expect(r.code).toBe(0);
    const states = r.stdout.split('\n').filter(Boolean).map((l) => l.slice(l.lastIndexOf(')') + 2, l.lastIndexOf(')') + 3));
    expect(states.length).toBeGreaterThan(1);
    expect(states.filter((s) => s === 'Z')).toEqual([]);
    // PID 1 is the enforcer: the workload sees it as its init.
    expect(r.stdout).toMatch(/^1 \(enforcer\) /m);
  });

  it('works with a non-root USER: image binaries run, dropped ones are denied', async () => {
    const r = await run(images.nonroot!.injected, ['sh', '-c', 'id -u; app ok; cp /usr/local/bin/app /tmp/mine; /tmp/mine']);
    expect(r.stdout).toBe('1000\napp: ok\n');
    expect(r.code).toBe(126);
    expect(r.stderr).toContain('/tmp/mine: Permission denied');
    expect(r.stderr).toContain('exec gate: landlock');
    const before = await run(images.nonroot!.original, ['id', '-u']);
    expect(before.stdout).toBe('1000\n');
  });

  it('injecting an injected image gives the same digest (Slipway layer replaced, not stacked)', async () => {
    const again = await injectEnforcer(client, images.bb!.injected, `${REPO}:bb-reinjected`, { labels: { 'dev.slipway.build': 'test' } });
    created.push(`${REPO}:bb-reinjected`);
    expect(again.ref).toBe(images.bb!.injected);
    expect(again.images[0]!.replaced).toBe(true);
  });
});
