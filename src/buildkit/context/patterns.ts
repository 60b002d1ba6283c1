import { posix } from 'node:path';

/**
 * `.dockerignore`-style path patterns with the semantics of moby/patternmatcher, which fsutil's
 * FilterFS applies to the include and exclude patterns BuildKit sends with each FileSync request
 * (the Dockerfile frontend reads `.dockerignore` itself and sends its lines as `exclude-patterns`):
 * - patterns are trimmed and cleaned like Go's filepath.Clean; empty ones are dropped;
 * - `!pattern` re-includes what an earlier pattern matched; the last matching pattern wins;
 * - `*` and `?` never cross `/`, `**` spans any number of directories, `[...]` is a class, `\` escapes;
 * - a pattern that matches a parent directory matches everything under it.
 */
export class PathMatcher {
  readonly patterns: readonly PathPattern[];
  readonly hasExclusions: boolean;

  constructor(lines: readonly string[]) {
    const patterns: PathPattern[] = [];
    for (const raw of lines) {
      let text = raw.trim();
      if (text === '') continue;
      text = cleanPath(text);
      let exclusion = false;
      if (text.startsWith('!')) {
        if (text.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        text = text.slice(1);
      }
      patterns.push(new PathPattern(text, exclusion));
    }
    this.patterns = patterns;
    this.hasExclusions = patterns.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** patternmatcher MatchesOrParentMatches: does `path` (slash-separated, relative) match? */
  matches(path: string): boolean {
    const parent = posix.dirname(path);
    const parentDirs = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      // Only patterns that can change the outcome are evaluated (as upstream does).
      if (pattern.exclusion !== matched) continue;
      let match = pattern.test(path);
      for (let i = 0; !match && i < parentDirs.length; i++) match = pattern.test(parentDirs.slice(0, i + 1).join('/'));
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * Whether a directory that does not match could still hold paths that do (fsutil's "only prefix"
   * optimisation): false lets the walker skip the directory without reading it. When a pattern has
   * wildcards before its last component we cannot tell, and say true.
   */
  mayMatchInside(dir: string, exclusionsOnly: boolean): boolean {
    const dirSlash = `${dir}/`;
    for (const p of this.patterns) {
      if (exclusionsOnly !== p.exclusion) continue;
      const prefix = p.withoutTrailingGlob();
      if (/[*?[\]\\^]/.test(prefix)) return true;
      if (`${prefix}/`.startsWith(dirSlash)) return true;
    }
    return false;
  }
}

type MatchKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

export class PathPattern {
  private readonly kind: MatchKind;
  private readonly regexp: RegExp | undefined;

  constructor(
    readonly text: string,
    readonly exclusion: boolean,
  ) {
    const compiled = compile(text);
    this.kind = compiled.kind;
    this.regexp = compiled.regexp;
  }

  test(path: string): boolean {
    switch (this.kind) {
      case 'exact':
        return path === this.text;
      case 'prefix':
        return path.startsWith(this.text.slice(0, -2));
      case 'suffix': {
        const suffix = this.text.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      default:
        return this.regexp!.test(path);
    }
  }

  /** The pattern without a trailing `/**` or `/*` (fsutil patternWithoutTrailingGlob). */
  withoutTrailingGlob(): string {
    return this.text.replace(/\/\*\*$/, '').replace(/\/\*$/, '');
  }
}

const REGEXP_SPECIAL = new Set([...'.+()|{}$']);

/** patternmatcher Pattern.compile, including its exact/prefix/suffix shortcuts (they differ from the regexp at the edges). */
function compile(pattern: string): { kind: MatchKind; regexp: RegExp | undefined } {
  let re = '^';
  let kind: MatchKind = 'exact';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const first = i === 0;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++; // `**/` is `**`
        if (i + 1 >= chars.length) {
          if (kind === 'exact') kind = 'prefix';
          else {
            re += '.*';
            kind = 'regexp';
          }
        } else {
          re += '(.*/)?';
          kind = 'regexp';
        }
        if (first) kind = 'suffix';
      } else {
        re += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      kind = 'regexp';
    } else if (REGEXP_SPECIAL.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        re += `\\${chars[++i]}`;
        kind = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      kind = 'regexp';
    } else {
      re += ch;
    }
  }
  if (kind !== 'regexp') return { kind, regexp: undefined };
  try {
    return { kind, regexp: new RegExp(`${re}$`) };
  } catch (err) {
    throw new Error(`invalid path pattern "${pattern}": ${(err as Error).message}`);
  }
}

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const normalized = posix.normalize(path);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}
