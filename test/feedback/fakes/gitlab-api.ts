import { need, now, RequestViolation, SHA_RE, startStrictServer, type Route, type StrictServer } from './strict-server.js';

/**
 * A strict fake of the parts of GitLab's REST API v4 Slipway calls (docs.gitlab.com: Commits API
 * "set the pipeline status of a commit", Notes API on merge requests, Deployments, Environments,
 * project members). Projects must be addressed by their URL-encoded path (`group%2Fproject`), every
 * request must carry `PRIVATE-TOKEN`, and GitLab's own refusals are reproduced: a commit status or
 * deployment set to the state it already has answers 400 "Cannot transition status …".
 */

export interface FakeGitlabOptions {
  token: string;
  /** `group/project` the fake serves; other projects are 404. */
  project: string;
  /** user id → access level (10 guest, 20 reporter, 30 developer, 40 maintainer, 50 owner). */
  members?: Record<number, number>;
  /** Merge request iid → state; others are 404. */
  mergeRequests?: Record<number, 'opened' | 'closed' | 'merged' | 'locked'>;
}

export interface FakeGitlab extends StrictServer {
  statuses: { sha: string; name: string; ref: string; status: string; target_url: string; description: string }[];
  notes: Map<number, { id: number; body: string; system: boolean }[]>;
  deployments: { id: number; environmentId: number; sha: string; ref: string; status: string; history: string[] }[];
  environments: { id: number; name: string; state: 'available' | 'stopped'; external_url: string | null }[];
}

const STATUS_STATES = ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'] as const;
const DEPLOYMENT_STATES = ['created', 'running', 'success', 'failed', 'canceled'] as const;

export async function startFakeGitlab(options: FakeGitlabOptions): Promise<FakeGitlab> {
  let nextId = 500;
  const id = () => ++nextId;
  const statuses: FakeGitlab['statuses'] = [];
  const notes: FakeGitlab['notes'] = new Map();
  const deployments: FakeGitlab['deployments'] = [];
  const environments: FakeGitlab['environments'] = [];
  const encoded = encodeURIComponent(options.project).replace(/[.]/g, '\\.');
  const p = (rest: string) => new RegExp(`^/api/v4/projects/${encoded}${rest}$`);
  const author = { id: 99, username: 'slipway-bot', name: 'Slipway', state: 'active' };
  const envJson = (e: FakeGitlab['environments'][number]) => ({
    id: e.id,
    name: e.name,
    slug: e.name.replace(/[^a-z0-9]+/g, '-'),
    external_url: e.external_url,
    state: e.state,
    tier: 'development',
    created_at: now(),
    updated_at: now(),
  });

  const routes: Route[] = [
    {
      method: 'POST',
      path: p('/statuses/([0-9a-f]{40})'),
      handle(req) {
        const b = req.body;
        const state = need.oneOf(b, 'state', STATUS_STATES);
        const name = need.string(b, 'name');
        const ref = need.string(b, 'ref');
        const target_url = need.url(b, 'target_url');
        const description = need.optionalString(b, 'description', 255) ?? '';
        need.only(b, ['state', 'ref', 'name', 'context', 'target_url', 'description', 'coverage', 'pipeline_id']);
        const sha = req.params[0]!;
        const last = [...statuses].reverse().find((s) => s.sha === sha && s.name === name && s.ref === ref);
        if (last?.status === state) {
          const verb = { pending: 'enqueue', running: 'run', success: 'succeed', failed: 'drop', canceled: 'cancel', skipped: 'skip' }[state];
          return {
            status: 400,
            body: { message: `Cannot transition status via :${verb} from :${last.status} (Reasons(s): Status cannot transition via "${verb}")` },
          };
        }
        statuses.push({ sha, name, ref, status: state, target_url, description });
        return {
          status: 201,
          body: {
            id: id(),
            sha,
            ref,
            status: state,
            name,
            target_url,
            description,
            created_at: now(),
            started_at: state === 'pending' ? null : now(),
            finished_at: ['success', 'failed', 'canceled'].includes(state) ? now() : null,
            allow_failure: false,
            coverage: null,
            author,
          },
        };
      },
    },
    {
      method: 'GET',
      path: p('/merge_requests/(\\d+)'),
      handle(req) {
        const iid = Number(req.params[0]);
        const state = options.mergeRequests?.[iid];
        if (state === undefined) throw new RequestViolation(404, '404 Not found');
        return { status: 200, body: { id: iid + 10_000, iid, project_id: 1, state, title: `MR ${iid}`, author } };
      },
    },
    {
      method: 'GET',
      path: p('/merge_requests/(\\d+)/notes'),
      handle(req) {
        const list = notes.get(Number(req.params[0])) ?? [];
        const perPage = Number(req.query.get('per_page') ?? 20);
        const page = Number(req.query.get('page') ?? 1);
        const slice = list.slice((page - 1) * perPage, page * perPage);
        const next = page * perPage < list.length ? String(page + 1) : '';
        return {
          status: 200,
          body: slice.map((n) => noteJson(Number(req.params[0]), n)),
          headers: { 'x-page': String(page), 'x-per-page': String(perPage), 'x-next-page': next, 'x-total': String(list.length) },
        };
      },
    },
    {
      method: 'POST',
      path: p('/merge_requests/(\\d+)/notes'),
      handle(req) {
        need.only(req.body, ['body', 'internal', 'created_at', 'merge_request_diff_head_sha']);
        const iid = Number(req.params[0]);
        const n = { id: id(), body: need.string(req.body, 'body'), system: false };
        notes.set(iid, [...(notes.get(iid) ?? []), n]);
        return { status: 201, body: noteJson(iid, n) };
      },
    },
    {
      method: 'PUT',
      path: p('/merge_requests/(\\d+)/notes/(\\d+)'),
      handle(req) {
        need.only(req.body, ['body']);
        const iid = Number(req.params[0]);
        const n = notes.get(iid)?.find((x) => x.id === Number(req.params[1]));
        if (!n) throw new RequestViolation(404, '404 Not found');
        n.body = need.string(req.body, 'body');
        return { status: 200, body: noteJson(iid, n) };
      },
    },
    {
      method: 'POST',
      path: p('/deployments'),
      handle(req) {
        const b = req.body;
        const name = need.string(b, 'environment');
        const sha = need.string(b, 'sha');
        if (!SHA_RE.test(sha)) throw new RequestViolation(400, 'sha is invalid');
        const ref = need.string(b, 'ref');
        need.boolean(b, 'tag');
        const status = need.oneOf(b, 'status', DEPLOYMENT_STATES);
        // "The environment is created if it does not exist" (Deployments API: create a deployment).
        let env = environments.find((e) => e.name === name);
        if (!env) environments.push((env = { id: id(), name, state: 'available', external_url: null }));
        env.state = 'available';
        const d = { id: id(), environmentId: env.id, sha, ref, status, history: [status] };
        deployments.push(d);
        return { status: 201, body: deploymentJson(d) };
      },
    },
    {
      method: 'PUT',
      path: p('/deployments/(\\d+)'),
      handle(req) {
        const d = deployments.find((x) => x.id === Number(req.params[0]));
        if (!d) throw new RequestViolation(404, '404 Deployment Not Found');
        need.only(req.body, ['status']);
        const status = need.oneOf(req.body, 'status', ['running', 'success', 'failed', 'canceled'] as const);
        if (d.status === status) return { status: 400, body: { message: `Cannot transition status via :${status} from :${d.status}` } };
        d.status = status;
        d.history.push(status);
        return { status: 200, body: deploymentJson(d) };
      },
    },
    {
      method: 'PUT',
      path: p('/environments/(\\d+)'),
      handle(req) {
        const env = environments.find((e) => e.id === Number(req.params[0]));
        if (!env) throw new RequestViolation(404, '404 Environment Not Found');
        need.only(req.body, ['external_url', 'tier', 'description']);
        env.external_url = need.url(req.body, 'external_url');
        return { status: 200, body: envJson(env) };
      },
    },
    {
      method: 'GET',
      path: p('/environments'),
      handle(req) {
        const name = req.query.get('name');
        return { status: 200, body: environments.filter((e) => name === null || e.name === name).map(envJson), headers: { 'x-next-page': '' } };
      },
    },
    {
      method: 'POST',
      path: p('/environments/(\\d+)/stop'),
      handle(req) {
        const env = environments.find((e) => e.id === Number(req.params[0]));
        if (!env) throw new RequestViolation(404, '404 Environment Not Found');
        env.state = 'stopped';
        return { status: 200, body: envJson(env) };
      },
    },
    {
      method: 'GET',
      path: p('/members/all/(\\d+)'),
      handle(req) {
        const level = options.members?.[Number(req.params[0])];
        if (level === undefined) throw new RequestViolation(404, '404 Not found');
        return {
          status: 200,
          body: {
            id: Number(req.params[0]),
            username: `user${req.params[0]}`,
            name: 'Member',
            state: 'active',
            access_level: level,
            created_at: now(),
            expires_at: null,
          },
        };
      },
    },
  ];

  function noteJson(iid: number, n: { id: number; body: string; system: boolean }) {
    return {
      id: n.id,
      type: null,
      body: n.body,
      author,
      created_at: now(),
      updated_at: now(),
      system: n.system,
      noteable_id: iid,
      noteable_type: 'MergeRequest',
      noteable_iid: iid,
      resolvable: false,
      confidential: false,
      internal: false,
    };
  }
  function deploymentJson(d: FakeGitlab['deployments'][number]) {
    const env = environments.find((e) => e.id === d.environmentId)!;
    return {
      id: d.id,
      iid: d.id,
      ref: d.ref,
      sha: d.sha,
      status: d.status,
      created_at: now(),
      updated_at: now(),
      user: author,
      deployable: null,
      environment: envJson(env),
    };
  }

  const server = await startStrictServer({
    name: 'fake GitLab API',
    routes,
    authenticate(req) {
      if (!req.path.startsWith('/api/v4/')) throw new RequestViolation(404, `not under /api/v4: ${req.path}`);
      if (req.headers['private-token'] !== options.token) throw new RequestViolation(401, '401 Unauthorized');
      if (!req.path.startsWith(`/api/v4/projects/${encodeURIComponent(options.project)}/`))
        throw new RequestViolation(404, `404 Project Not Found (projects are addressed by id or URL-encoded path, got ${req.path})`);
    },
    errorBody: (_status, message) => ({ message }),
  });
  return Object.assign(server, { statuses, notes, deployments, environments });
}
