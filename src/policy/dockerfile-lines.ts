import { extractFlags, processWord, type Escape } from './shell-word.js';

/**
 * BuildKit's Dockerfile parser (frontend/dockerfile/parser), re-stated: parser directives, comments,
 * line continuations and heredocs, down to instructions with their flags. Two dialects, because the
 * BuildKit built into Docker Engine 20.10 (which Slipway drives) is older than BuildKit today:
 *
 * - `current`: `syntax`, `escape` and `check` directives; heredocs (`RUN <<EOF`) whose body is content;
 *   a continuation only when the escape character is not itself escaped.
 * - `legacy`: only `syntax` and `escape` (a `# check=` line ends the directives, so an `# escape=` after
 *   it is a comment); no heredocs (their body lines are instructions); `\\` at the end still continues.
 */
export type Dialect = 'current' | 'legacy';

export interface Instruction {
  /** Lower-case, as BuildKit dispatches it. */
  keyword: string;
  /** `--name=value` words before the arguments, quotes removed. */
  flags: string[];
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface ParsedLines {
  escape: Escape;
  /** Parser directives in effect, by lower-case name. */
  directives: Map<string, string>;
  instructions: Instruction[];
  /** Why BuildKit would refuse the file at this level (a repeated directive, a bad escape, an open heredoc). */
  errors: string[];
}

const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const DIRECTIVES: Record<Dialect, Set<string>> = { current: new Set(['syntax', 'escape', 'check']), legacy: new Set(['syntax', 'escape']) };
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;
const BOM = '\uFEFF';

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const trimLeading = (s: string) => s.replace(/^\s+/u, '');
const isComment = (s: string) => trimLeading(trimNewline(s)).startsWith('#');

export function parseLines(text: string, dialect: Dialect): ParsedLines {
  const lines = text.split('\n');
  if (lines[0]?.startsWith(BOM)) lines[0] = lines[0].slice(BOM.length);
  const result: ParsedLines = { escape: '\\', directives: new Map(), instructions: [], errors: [] };
  let directivesDone = false;
  let continuation = continuationRe('\\', dialect);

  /** `possibleParserDirective`: only an unbroken run of directive lines at the very top counts. */
  const directive = (line: string) => {
    if (directivesDone) return;
    const m = DIRECTIVE.exec(line);
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !DIRECTIVES[dialect].has(key)) {
      directivesDone = true;
      return;
    }
    if (result.directives.has(key)) {
      result.errors.push(`only one ${key} parser directive can be used`);
      return;
    }
    result.directives.set(key, m[2]!);
    if (key === 'escape') {
      if (m[2] !== '`' && m[2] !== '\\') result.errors.push(`invalid escape token '${m[2]}' does not match \` or \\`);
      else {
        result.escape = m[2];
        continuation = continuationRe(m[2], dialect);
      }
    }
  };
  const trimContinuation = (line: string): [string, boolean] => {
    const m = continuation.exec(line);
    return m ? [line.slice(0, m.index) + (m[1] ?? ''), false] : [line, true];
  };

  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    const first = trimLeading(trimNewline(lines[i++]!));
    directive(first);
    let [line, ended] = trimContinuation(first.startsWith('#') ? '' : first);
    if (ended && line === '') continue;
    while (!ended && i < lines.length) {
      const raw = trimNewline(lines[i++]!);
      directive(raw);
      if (isComment(raw)) continue;
      if (trimLeading(raw) === '') continue; // an empty continuation line does not end the instruction
      let part: string;
      [part, ended] = trimContinuation(raw);
      line += part;
    }
    // splitCommand: the keyword ends at the first space, tab, \v, \f or \r (not at other Unicode spaces).
    const words = /^([^\t\v\f\r ]+)(?:[\t\v\f\r ]+([\s\S]*))?$/.exec(line.trim());
    if (!words) continue;
    const keyword = words[1]!.toLowerCase();
    const { flags, rest } = extractFlags(words[2] ?? '');
    const ins: Instruction = { keyword, flags, args: rest.trim(), line: startLine };
    result.instructions.push(ins);
    if (dialect === 'current') {
      for (const doc of heredocs(ins, line)) {
        let closed = false;
        while (i < lines.length) {
          let candidate = trimNewline(lines[i++]!);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            closed = true;
            break;
          }
        }
        if (!closed) result.errors.push(`unterminated heredoc <<${doc.name} (line ${startLine})`);
      }
    }
  }
  return result;
}

/** BuildKit's line-continuation pattern for the escape character, per dialect. */
function continuationRe(escape: Escape, dialect: Dialect): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return dialect === 'current' ? new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`) : new RegExp(`${e}[ \\t]*$`);
}

/** RUN, COPY and ADD (also under ONBUILD) take heredocs unless written in JSON form. */
function heredocs(ins: Instruction, line: string): { name: string; chomp: boolean }[] {
  let keyword = ins.keyword;
  let args = ins.args;
  if (keyword === 'onbuild') {
    const inner = /^(\S+)\s*([\s\S]*)$/.exec(args);
    if (!inner) return [];
    keyword = inner[1]!.toLowerCase();
    args = extractFlags(inner[2] ?? '').rest.trim();
  }
  if (!['run', 'copy', 'add'].includes(keyword) || isJsonArray(args)) return [];
  const docs: { name: string; chomp: boolean }[] = [];
  for (const word of rawWords(line)) {
    const m = HEREDOC_WORD.exec(word);
    if (!m || !m[3]) continue;
    const name = processWord(m[3], new Map(), '\\');
    if (name.unsure || name.value === '' || /\s/.test(name.value)) continue;
    docs.push({ name: name.value, chomp: m[2] === '-' });
  }
  return docs;
}

function isJsonArray(args: string): boolean {
  if (!args.startsWith('[')) return false;
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) && v.every((x) => typeof x === 'string');
  } catch {
    return false;
  }
}

/** Shell words with their quotes and escapes kept (BuildKit's lexer with RawQuotes and RawEscapes). */
function rawWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (!quote && /\s/.test(ch)) {
      if (word) words.push(word);
      word = '';
      continue;
    }
    if (ch === '\\' && quote !== "'" && i + 1 < line.length) {
      word += ch + line[++i]!;
      continue;
    }
    if (!quote && (ch === '"' || ch === "'")) quote = ch;
    else if (quote === ch) quote = '';
    word += ch;
  }
  if (word) words.push(word);
  return words;
}
