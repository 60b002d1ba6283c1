import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  }).trim();

/** A real bare repository with a working clone to make commits in. */
export class TestRepo {
  readonly root: string;
  readonly bare: string;
  readonly work: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'slipway-repo-'));
    this.bare = join(this.root, 'hello.git');
    this.work = join(this.root, 'work');
    git(this.root, 'init', '-q', '--bare', '-b', 'main', this.bare);
    git(this.root, 'init', '-q', '-b', 'main', this.work);
  }

  /** Commits `files` on `branch` and pushes; returns the commit sha. */
  commit(files: Record<string, string>, branch = 'main'): string {
    git(this.work, 'checkout', '-q', '-B', branch);
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.work, name)), { recursive: true });
      writeFileSync(join(this.work, name), content);
    }
    git(this.work, 'add', '-A');
    git(this.work, 'commit', '-q', '--allow-empty', '-m', `commit ${Date.now()}`);
    git(this.work, 'push', '-q', '--force', this.bare, `HEAD:refs/heads/${branch}`);
    return git(this.work, 'rev-parse', 'HEAD');
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
