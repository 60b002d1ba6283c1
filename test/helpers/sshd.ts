import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

const SSHD = '/usr/sbin/sshd';

/** Makes an ed25519 key pair without a passphrase (`ssh-keygen` writes the private half 0600). */
export function sshKeyPair(path: string): { privateKey: string; publicKey: string } {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'slipway-test', '-f', path]);
  return { privateKey: path, publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/**
 * Debian's OpenSSH server (`openssh-server`), not a daemon: `sshd -D -e` on 127.0.0.1 and a free port,
 * with its own host key and config in a temporary directory. It lets in the keys of `authorizedKeys`
 * only, as the current user, and runs nothing but `git-shell` (ForceCommand): a git host serving the
 * repositories at their absolute paths, as a forge serves `ssh://git@host/owner/name.git`.
 */
export class TestSshd {
  readonly dir = mkdtempSync(join(tmpdir(), 'slipway-sshd-'));
  readonly user = userInfo().username;
  port = 0;
  /** `[127.0.0.1]:PORT <type> <key>`: the known_hosts line of this server. */
  knownHostsLine = '';
  /** What sshd printed (its log, `-e`). */
  log = '';
  private child: ChildProcess | undefined;

  constructor(private readonly authorizedKeys: string[]) {}

  async start(): Promise<this> {
    this.port = await freePort();
    const hostKey = sshKeyPair(join(this.dir, 'host_ed25519'));
    this.knownHostsLine = `[127.0.0.1]:${this.port} ${hostKey.publicKey.split(' ').slice(0, 2).join(' ')}`;
    writeFileSync(join(this.dir, 'authorized_keys'), `${this.authorizedKeys.map((k) => `restrict ${k}`).join('\n')}\n`, { mode: 0o600 });
    writeFileSync(
      join(this.dir, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.dir, 'host_ed25519')}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        // The temporary directory's parents (/tmp) are world-writable, which StrictModes refuses.
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        `AllowUsers ${this.user}`,
        'ForceCommand git-shell -c "$SSH_ORIGINAL_COMMAND"',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    // Debian's service unit makes the privilege separation directory; a non-daemon start must too.
    if (userInfo().uid === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
    const child = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        this.log += chunk;
        if (/Server listening on 127\.0\.0\.1 port/.test(this.log)) resolve();
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`sshd exited (${code}) before listening: ${this.log}`)));
    });
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
