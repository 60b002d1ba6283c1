import type { FastifyInstance } from 'fastify';
import { changeRequestLabel } from '../../forges/terms.js';
import type { ApiAuth } from '../auth/authenticate.js';
import { authorizeRecord } from './api-auth.js';
import { SlipwayError } from '../../core/errors.js';
import { isTerminalState, type BuildState } from '../../core/types.js';
import { getBuild, logsAfter, type LogLine, type Build } from '../../store/index.js';
import type { ServerDeps } from '../deps.js';

/**
 * `GET /builds/:id`: the build page every forge status links to (`server.publicUrl` +
 * `/builds/<id>`). For now the build's state and its log — HTML for browsers (refreshing itself while
 * the build runs), plain text for everything else. The JSON lives at /api/v1/builds/:id.
 */
export async function buildPagePlugin(app: FastifyInstance, deps: ServerDeps, auth: ApiAuth): Promise<void> {
  const { db } = deps.store;

  app.get<{ Params: { id: string } }>('/builds/:id', { config: { access: 'read' } }, async (request, reply) => {
    const build = await getBuild(db, request.params.id);
    if (!build) throw new SlipwayError('SLW_NOT_FOUND', `build ${request.params.id} does not exist; list builds with GET /api/v1/builds`);
    authorizeRecord(auth, request, build.app);
    const lines: LogLine[] = [];
    for (let after = 0; ; ) {
      const page = await logsAfter(db, build.id, after, 5000);
      lines.push(...page);
      if (page.length < 5000) break;
      after = Number(page[page.length - 1]!.id);
    }
    const header = headerLines(build);
    const log = lines.map((l) => `${l.ts} ${l.stage ? `[${l.stage}] ` : ''}${l.level === 'info' ? '' : `${l.level.toUpperCase()} `}${l.line}`);
    if (!(request.headers.accept ?? '').includes('text/html')) {
      return reply.type('text/plain; charset=utf-8').send(`${[...header, '', ...log].join('\n')}\n`);
    }
    const running = !isTerminalState(build.state as BuildState);
    const html = [
      '<!doctype html>',
      '<html lang="en"><head><meta charset="utf-8">',
      `<title>${escape(`${build.app} ${build.id} — ${build.state}`)}</title>`,
      // While the build runs the page follows it; /api/v1/builds/:id/logs streams for clients that can.
      running ? '<meta http-equiv="refresh" content="5">' : '',
      '<style>body{font:14px system-ui,sans-serif;margin:2em}pre{background:#f6f8fa;padding:1em;overflow:auto;font:12px ui-monospace,monospace}</style>',
      '</head><body>',
      `<h1>${escape(build.app)} → ${escape(build.target)}: ${escape(build.state)}</h1>`,
      `<pre>${escape(header.join('\n'))}</pre>`,
      `<p><a href="/api/v1/builds/${encodeURIComponent(build.id)}">JSON</a> · <a href="/api/v1/builds/${encodeURIComponent(build.id)}/logs">plain log</a></p>`,
      `<h2>Log</h2><pre>${escape(log.join('\n'))}</pre>`,
      '</body></html>',
    ].join('\n');
    return reply.type('text/html; charset=utf-8').send(html);
  });
}

function headerLines(b: Build): string[] {
  return [
    `build   ${b.id}`,
    `app     ${b.app} → ${b.target}`,
    `state   ${b.state}${b.stage ? ` (stage ${b.stage})` : ''}`,
    `commit  ${b.commit} (${b.ref})${b.prNumber === null ? '' : `, ${changeRequestLabel(b.forge, b.prNumber)}`}`,
    ...(b.repo ? [`repo    ${b.forge ?? ''}:${b.repo}`] : []),
    ...(b.digest ? [`digest  ${b.digest}`] : []),
    ...(b.errorCode ? [`error   ${b.errorCode}: ${b.errorMessage ?? ''}`] : []),
  ];
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
