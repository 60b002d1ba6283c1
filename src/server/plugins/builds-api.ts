import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiAuth } from '../auth/authenticate.js';
import { authorizeRecord } from './api-auth.js';
import { singleQuery } from '../query.js';
import { SlipwayError } from '../../core/errors.js';
import { promotedRevision } from '../../core/stage-outputs.js';
import { BUILD_STATES, isTerminalState, type BuildState } from '../../core/types.js';
import type { BuildEvent } from '../../queue/index.js';
import { getBuild, listBuildSteps, listBuilds, listDecisions, listStages, logsAfter, type LogLine } from '../../store/index.js';
import type { ServerDeps } from '../deps.js';
import { buildView, type BuildDetailView } from '../views.js';

const logLine = (l: Pick<LogLine, 'ts' | 'stage' | 'level' | 'line'>) =>
  `${l.ts} ${l.stage ? `[${l.stage}] ` : ''}${l.level === 'info' ? '' : `${l.level.toUpperCase()} `}${l.line}`;

/** `GET /api/v1/builds…`: listing, one build with its stages, steps and decisions, and its logs (text or SSE). */
export async function buildsApiPlugin(app: FastifyInstance, deps: ServerDeps, auth: ApiAuth): Promise<void> {
  const { db } = deps.store;
  const publicUrl = deps.config.server.publicUrl;

  app.get<{ Querystring: { app?: string; state?: string; limit?: string } }>('/api/v1/builds', { config: { access: 'read' } }, async (request) => {
    const appName = singleQuery(request.query, 'app');
    const state = singleQuery(request.query, 'state');
    const limit = singleQuery(request.query, 'limit');
    // An app-scoped token (OIDC) lists only its app's builds, and must say which.
    if (request.principal?.kind === 'oidc') {
      if (appName === undefined) throw new SlipwayError('SLW_AUTH_FORBIDDEN', 'an OIDC token lists the builds of its own app only: add ?app=<app>');
      authorizeRecord(auth, request, appName);
    }
    if (state !== undefined && !(BUILD_STATES as readonly string[]).includes(state)) {
      throw new SlipwayError('SLW_BAD_REQUEST', `state "${state}" is not a build state; use one of ${BUILD_STATES.join(', ')}`);
    }
    const n = limit === undefined ? undefined : Number(limit);
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 500)) {
      throw new SlipwayError('SLW_BAD_REQUEST', `limit "${limit}" must be a whole number from 1 to 500`);
    }
    const rows = await listBuilds(db, { app: appName, state: state as BuildState | undefined, limit: n });
    return { builds: rows.map((b) => buildView(b, publicUrl)) };
  });

  const load = async (request: FastifyRequest, id: string) => {
    const build = await getBuild(db, id);
    if (!build) throw new SlipwayError('SLW_NOT_FOUND', `build ${id} does not exist; list builds with GET /api/v1/builds`);
    authorizeRecord(auth, request, build.app);
    return build;
  };

  app.get<{ Params: { id: string } }>('/api/v1/builds/:id', { config: { access: 'read' } }, async (request) => {
    const build = await load(request, request.params.id);
    const [stages, steps, decisions] = await Promise.all([listStages(db, build.id), listBuildSteps(db, build.id), listDecisions(db, build.id)]);
    // The revision the promote stage made, and where it serves: the tag URL for previews.
    const revision: BuildDetailView['revision'] = promotedRevision(stages) ?? null;
    return {
      ...buildView(build, publicUrl),
      revision,
      stages: stages.map((s) => ({ stage: s.stage, state: s.state, startedAt: s.startedAt, finishedAt: s.finishedAt, durationMs: s.durationMs })),
      // The image build's steps (BuildKit vertices), in BuildKit's order.
      steps: steps.map((s) => ({
        index: s.index,
        name: s.name,
        cached: s.cached,
        startedAt: s.startedAt,
        completedAt: s.completedAt,
        durationMs: s.durationMs,
        error: s.error,
      })),
      decisions: decisions.map((d) => ({
        gate: d.gate,
        policy: d.policy,
        rule: d.ruleIndex,
        mode: d.mode,
        outcome: d.outcome,
        message: d.message,
        subject: d.subject,
        at: d.createdAt,
      })),
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/builds/:id/logs', { config: { access: 'read' } }, async (request, reply) => {
    const build = await load(request, request.params.id);
    const wantsSse = (request.headers.accept ?? '').includes('text/event-stream');
    if (!wantsSse) {
      const lines: string[] = [];
      for (let after = 0; ; ) {
        const page = await logsAfter(db, build.id, after, 5000);
        lines.push(...page.map(logLine));
        if (page.length < 5000) break;
        after = Number(page[page.length - 1]!.id);
      }
      return reply.type('text/plain; charset=utf-8').send(lines.length ? `${lines.join('\n')}\n` : '');
    }
    const lastEventId = Number(request.headers['last-event-id'] ?? 0) || 0;
    return streamLogs(reply, build.id, lastEventId);
  });

  /**
   * SSE: subscribe first, then replay what is stored, then pass on live lines newer than the last
   * replayed one — in that order no line falls between replay and live. Ends with `event: end` once
   * the build is finished.
   */
  async function streamLogs(reply: FastifyReply, buildId: string, after: number): Promise<FastifyReply> {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let last = after;
    let replaying = true;
    let ended = false;
    const backlog: BuildEvent[] = [];
    const send = (event: string, data: unknown, id?: number) =>
      res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const end = (state: string) => {
      if (ended) return;
      ended = true;
      send('end', { state });
      res.end();
    };
    const handle = (event: BuildEvent) => {
      if (ended) return;
      if (event.type === 'log') {
        if (event.id <= last) return;
        last = event.id;
        send('log', { ts: event.ts, stage: event.stage, level: event.level, line: event.line }, event.id);
      } else {
        send('state', { state: event.state });
        if (event.terminal) end(event.state);
      }
    };
    const unfollow = await deps.events.follow(buildId, (event) => (replaying ? backlog.push(event) : handle(event)));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(heartbeat);
      unfollow();
    });
    for (;;) {
      const page = await logsAfter(db, buildId, last, 1000);
      for (const l of page) {
        last = Number(l.id);
        send('log', { ts: l.ts, stage: l.stage, level: l.level, line: l.line }, last);
      }
      if (page.length < 1000) break;
    }
    replaying = false;
    for (const event of backlog.splice(0)) handle(event);
    const current = await getBuild(db, buildId);
    if (current && isTerminalState(current.state as BuildState)) {
      // Lines written just before the end may have been published after our replay read: read again.
      for (const l of await logsAfter(db, buildId, last, 10_000)) {
        last = Number(l.id);
        send('log', { ts: l.ts, stage: l.stage, level: l.level, line: l.line }, last);
      }
      end(current.state);
    } else if (current) send('state', { state: current.state });
    return reply;
  }

  app.get('/api/v1/apps', { config: { access: 'read' } }, async (request) => ({
    apps: deps.config.apps
      .filter((a) => mayRead(auth, request, a.name))
      .map((a) => ({
        name: a.name,
        repo: a.repo,
        branches: a.branches,
        tags: a.tags,
        previews: a.previews ? { target: a.previews.target } : null,
      })),
  }));
}

/** Whether the request's principal may read an app (always, for open reads and static tokens). */
function mayRead(auth: ApiAuth, request: FastifyRequest, app: string): boolean {
  try {
    authorizeRecord(auth, request, app);
    return true;
  } catch {
    return false;
  }
}
