/**
 * The word rules of BuildKit's Dockerfile frontend (its `shell` lexer and the parser's word and flag
 * splitting), re-stated for the build gate. Where BuildKit versions differ, or a form is one the gate
 * does not evaluate, the result says so (`unsure`) instead of guessing: the gate then treats the word
 * as unknown and the registry rule refuses it.
 */

export type Escape = '\\' | '`';

export interface Expanded {
  value: string;
  /** A form the gate does not evaluate (`${X#p}`, `${X?}`…), or a syntax error BuildKit would stop on. */
  unsure: boolean;
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;
const SPECIAL = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

/**
 * BuildKit's `ProcessWord`: quotes removed, the escape character escapes, `$X`, `${X}`, `${X:-w}`,
 * `${X:+w}`, `${X-w}`, `${X+w}` expanded from `env`. Unset variables expand to ''.
 */
export function processWord(word: string, env: ReadonlyMap<string, string>, escape: Escape): Expanded {
  const chars = [...word];
  let pos = 0;
  let unsure = false;
  const peek = () => chars[pos];
  const next = () => chars[pos++];

  const name = (): string => {
    let out = '';
    const first = peek();
    if (first !== undefined && /\p{Nd}/u.test(first)) {
      while (peek() !== undefined && /\p{Nd}/u.test(peek()!)) out += next();
      return out;
    }
    if (first !== undefined && SPECIAL.has(first)) return next()!;
    while (peek() !== undefined && NAME_CHAR.test(peek()!)) out += next();
    return out;
  };

  const dollar = (): string => {
    next(); // $
    if (peek() !== '{') {
      const n = name();
      return n === '' ? '$' : (env.get(n) ?? '');
    }
    next(); // {
    const c = peek();
    if (c === undefined || c === '{' || c === '}' || c === ':') {
      unsure = true;
      return '';
    }
    const n = name();
    const op = next();
    if (op === '}') return env.get(n) ?? '';
    let colon = false;
    let modifier = op;
    if (op === ':') {
      colon = true;
      modifier = next();
    }
    const word = until('}');
    const value = env.get(n);
    const set = colon ? value !== undefined && value !== '' : value !== undefined;
    if (modifier === '-') return set ? value! : word;
    if (modifier === '+') return set ? word : '';
    // `?`, `#`, `%`, `/` and others: newer BuildKit evaluates some, older ones fail; the gate does neither.
    unsure = true;
    return '';
  };

  const single = (): string => {
    next();
    let out = '';
    for (;;) {
      const ch = next();
      if (ch === undefined) {
        unsure = true;
        return out;
      }
      if (ch === "'") return out;
      out += ch;
    }
  };

  const double = (): string => {
    next();
    let out = '';
    for (;;) {
      const ch = peek();
      if (ch === undefined) {
        unsure = true;
        return out;
      }
      if (ch === '"') {
        next();
        return out;
      }
      if (ch === '$') {
        out += dollar();
        continue;
      }
      next();
      if (ch === escape) {
        const after = peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === escape) {
          out += next();
          continue;
        }
      }
      out += ch;
    }
  };

  function until(stop: string | undefined): string {
    let out = '';
    while (peek() !== undefined) {
      const ch = peek()!;
      if (stop !== undefined && ch === stop) {
        next();
        return out;
      }
      if (ch === "'") out += single();
      else if (ch === '"') out += double();
      else if (ch === '$') out += dollar();
      else {
        next();
        if (ch === escape) {
          const escaped = next();
          if (escaped === undefined) break;
          out += escaped;
        } else out += ch;
      }
    }
    if (stop !== undefined) unsure = true; // unterminated ${…
    return out;
  }

  const value = until(undefined);
  return { value, unsure };
}

/**
 * The parser's `parseWords` (ARG, ENV, LABEL arguments): whitespace splits words outside quotes; quotes
 * and escapes stay in the word (the lexer removes them later).
 */
export function parseWords(rest: string, escape: Escape): string[] {
  const words: string[] = [];
  const chars = [...rest];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i]!;
    if (!inWord && !quote) {
      if (/\s/.test(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === escape && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i]!;
      }
      word += ch;
      continue;
    }
    if (/\s/.test(ch)) {
      if (blankOk || word) words.push(word);
      word = '';
      blankOk = false;
      inWord = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOk = true;
    }
    if (ch === escape) {
      if (i + 1 === chars.length) continue;
      word += ch;
      ch = chars[++i]!;
    }
    word += ch;
  }
  if ((inWord || quote) && (blankOk || word)) words.push(word);
  return words;
}

/**
 * `extractBuilderFlags`: the leading `--name[=value]` words of an instruction, quotes removed and `\`
 * escapes applied (always backslash, whatever the escape directive), and the rest of the line.
 */
export function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && /\s/.test(line[pos]!)) pos++;
    if (pos >= line.length) return { flags, rest: '' };
    if (!line.startsWith('--', pos)) return { flags, rest: line.slice(pos) };
    let word = '';
    let quote = '';
    let blankOk = false;
    for (; pos < line.length; pos++) {
      const ch = line[pos]!;
      if (!quote && /\s/.test(ch)) break;
      if (!quote && (ch === '"' || ch === "'")) {
        quote = ch;
        blankOk = true;
        continue;
      }
      if (quote && ch === quote) {
        quote = '';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        word += line[++pos];
        continue;
      }
      word += ch;
    }
    if (word === '--') return { flags, rest: line.slice(pos) };
    if (blankOk || word) flags.push(word);
  }
}

/** A flag's values by name (`--mount` may repeat); `undefined` value for `--flag` without `=`. */
export function flagValues(flags: readonly string[], name: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const f of flags) {
    const body = f.slice(2);
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    if (key === name) out.push(eq >= 0 ? body.slice(eq + 1) : undefined);
  }
  return out;
}

/**
 * One CSV record as Go's `encoding/csv` reads it (BuildKit reads `--mount` values so): fields split on
 * commas, a field that starts with `"` is quoted with `""` for a quote. `undefined` when Go would fail
 * (a bare quote in an unquoted field, an unterminated quote).
 */
export function csvRecord(text: string): string[] | undefined {
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    if (text[pos] === '"') {
      let field = '';
      pos++;
      for (;;) {
        if (pos >= text.length) return undefined;
        const ch = text[pos++]!;
        if (ch === '"') {
          if (text[pos] === '"') {
            field += '"';
            pos++;
            continue;
          }
          break;
        }
        field += ch;
      }
      if (pos < text.length && text[pos] !== ',') return undefined;
      fields.push(field);
    } else {
      const end = text.indexOf(',', pos);
      const field = end < 0 ? text.slice(pos) : text.slice(pos, end);
      if (field.includes('"')) return undefined;
      fields.push(field);
      pos = end < 0 ? text.length : end;
    }
    if (pos >= text.length) return fields;
    pos++; // the comma
  }
}
