/**
 * The frontend image a Dockerfile asks for (`# syntax=…`): BuildKit's built-in Dockerfile frontend pulls
 * and runs that image to build the file instead of reading it itself. BuildKit has detected it three
 * ways over its versions, and the gate cannot know which one a BuildKit runs, so it returns what any of
 * them would find:
 *
 * - today: BOM dropped, a `#!` first line skipped; then `#` directives (stopping at the first line that
 *   is not a known directive), else `//` directives, else a JSON object's `"syntax"` key;
 * - older: every leading line of the form `#key=value` (any key; the last `syntax` wins), no BOM handling;
 * - in between: the same with `//` lines too and `#!` lines skipped anywhere in that run.
 *
 * The image is the value up to its first space (the rest is the frontend's command line).
 */
export function frontendImages(text: string): string[] {
  const found = new Set<string>();
  const add = (value: string | undefined) => {
    const image = value?.split(' ')[0];
    if (image) found.add(image);
  };
  const noBom = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // Go's bufio.Scanner drops a trailing \r from each line.
  const lines = (s: string) => s.split('\n').map((l) => l.replace(/\r$/, ''));

  // Today's DetectSyntax.
  let body = noBom;
  const firstBreak = body.indexOf('\n');
  if (body.startsWith('#!')) body = firstBreak < 0 ? '' : body.slice(firstBreak + 1);
  for (const prefix of ['#', '//']) add(directiveRun(lines(body), prefix));
  try {
    const json: unknown = JSON.parse(body);
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      const v = (json as Record<string, unknown>).syntax;
      if (typeof v === 'string') add(v);
    }
  } catch {
    // not JSON: nothing to add
  }

  // The older scans, on the text as given and without its BOM (one BuildKit stripped it, one did not).
  for (const t of new Set([text, noBom])) {
    for (const both of [false, true]) {
      for (const line of lines(t)) {
        if (both && /^#!.+$/.test(line)) continue;
        const m = (both ? /^(?:#|\/\/)\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/ : /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/).exec(line);
        if (!m) break;
        if (m[1]!.toLowerCase() === 'syntax') add(m[2]);
      }
    }
  }
  return [...found];
}

const KNOWN = new Set(['syntax', 'escape', 'check']);

/** Today's DirectiveParser over leading lines with one comment prefix: the first `syntax` value. */
function directiveRun(lines: string[], prefix: string): string | undefined {
  const seen = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith(prefix)) return undefined;
    const m = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(line.slice(prefix.length).replace(/^\s+/u, ''));
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !KNOWN.has(key) || seen.has(key)) return undefined;
    seen.add(key);
    if (key === 'syntax') return m[2];
  }
  return undefined;
}
