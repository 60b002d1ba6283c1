import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` (a sqlite database, checkouts, `.git/config`, uploads), as bytes: what a leak scan reads. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && statSync(p).size < 64 * 1024 * 1024) out.push({ path: p, bytes: readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}
