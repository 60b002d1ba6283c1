import { execFile } from 'node:child_process';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SlipwayError } from '../../core/errors.js';
import { hookScript, hookShell } from './hook-script.js';

const exec = promisify(execFile);

/**
 * The bare repositories `git push` to Slipway writes into, `<root>/<app>.git`, created on
 * first use. The hook is (re)written once per process so an upgraded Slipway ships its current hook.
 */
export class PushRepos {
  private readonly ready = new Map<string, Promise<string>>();

  constructor(readonly root: string) {}

  /** Where the hook's script lives; its path reaches the hook through the environment. */
  get hookScript(): string {
    return join(this.root, 'post-receive.mjs');
  }

  ensure(app: string): Promise<string> {
    let pending = this.ready.get(app);
    if (!pending) {
      pending = this.create(app).catch((err: unknown) => {
        this.ready.delete(app);
        throw err;
      });
      this.ready.set(app, pending);
    }
    return pending;
  }

  private async create(app: string): Promise<string> {
    const dir = join(this.root, `${app}.git`);
    await mkdir(this.root, { recursive: true });
    await writeFile(this.hookScript, await hookScript());
    try {
      if (!(await stat(join(dir, 'HEAD')).catch(() => undefined))) {
        await exec('git', ['init', '-q', '--bare', '--initial-branch=main', dir]);
      }
      // We authenticate before http-backend runs, so it may accept pushes; push options carry `wait`.
      await exec('git', ['config', 'http.receivepack', 'true'], { cwd: dir });
      await exec('git', ['config', 'receive.advertisePushOptions', 'true'], { cwd: dir });
    } catch (err) {
      throw new SlipwayError('SLW_INTERNAL', `cannot create the push repository ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const hook = join(dir, 'hooks', 'post-receive');
    await mkdir(join(dir, 'hooks'), { recursive: true });
    await writeFile(hook, await hookShell());
    await chmod(hook, 0o755);
    return dir;
  }
}
