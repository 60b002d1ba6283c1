import { SlipwayError } from '../core/errors.js';
import { appUrl, TAG_RE, tagUrl } from './names.js';
import type { AppStatus, ResolvedTraffic, Revision, RouteRecord, TrafficTarget } from './types.js';

/**
 * Traffic blocks as Knative's Route validates and resolves them (knative-api-specification-1.0.md,
 * "TrafficTarget"): the same rules for every target, so `slipway traffic` means one thing everywhere.
 */

const invalid = (app: string, why: string) => new SlipwayError('SLW_TRAFFIC_INVALID', `traffic for app ${app}: ${why}`);

/** The newest ready revision: what `latestRevision: true` (`@latest`) follows. */
export function latestReady(revisions: readonly Revision[]): Revision | undefined {
  let best: Revision | undefined;
  for (const r of revisions) if (r.state === 'ready' && (!best || r.n > best.n)) best = r;
  return best;
}

/**
 * Checks a traffic block against the app's revisions and returns it normalized (exactly one of
 * `revision` / `latestRevision: true` per entry). Every problem is reported at once.
 */
export function validateTraffic(
  app: string,
  traffic: readonly TrafficTarget[],
  revisions: readonly Revision[],
  options: { allowEmpty?: boolean } = {},
): TrafficTarget[] {
  // Taking the last preview off an app that never served its main URL leaves nothing to route: valid then.
  if (traffic.length === 0 && options.allowEmpty) return [];
  const problems: string[] = [];
  if (traffic.length === 0) throw invalid(app, 'name at least one revision (e.g. [{"latestRevision":true,"percent":100}])');
  const byName = new Map(revisions.map((r) => [r.name, r]));
  const tags = new Set<string>();
  let sum = 0;
  const normalized = traffic.map((t, i) => {
    const where = `entry ${i + 1}`;
    const latest = t.latestRevision === true;
    if (latest === (t.revision !== undefined)) problems.push(`${where} must name exactly one of revision and latestRevision: true`);
    if (!Number.isInteger(t.percent) || t.percent < 0 || t.percent > 100)
      problems.push(`${where}: percent ${String(t.percent)} must be a whole number from 0 to 100`);
    else sum += t.percent;
    if (t.revision !== undefined) {
      const r = byName.get(t.revision);
      if (!r || r.state === 'deleted') problems.push(`${where}: revision ${t.revision} does not exist (slipway revisions ${app} lists them)`);
      else if (r.state !== 'ready') problems.push(`${where}: revision ${t.revision} is ${r.state}, not ready`);
    }
    if (latest && !latestReady(revisions)) problems.push(`${where}: latestRevision needs a ready revision and app ${app} has none`);
    if (t.tag !== undefined) {
      if (!TAG_RE.test(t.tag)) problems.push(`${where}: tag "${t.tag}" must be a DNS label (lower-case letters, digits, dashes; starting with a letter)`);
      if (tags.has(t.tag)) problems.push(`${where}: tag "${t.tag}" is used twice`);
      tags.add(t.tag);
    }
    return {
      ...(latest ? { latestRevision: true } : { revision: t.revision }),
      percent: t.percent,
      ...(t.tag !== undefined ? { tag: t.tag } : {}),
    } as TrafficTarget;
  });
  // An app that only has previews so far (every entry tagged, all at 0%) serves nothing at its own URL
  // yet; any other block must give the app all of its traffic.
  const previewsOnly = sum === 0 && normalized.length > 0 && normalized.every((t) => t.tag !== undefined);
  if (sum !== 100 && !previewsOnly && problems.every((p) => !p.includes('percent')))
    problems.push(`percents sum to ${sum}; they must sum to 100 (tags may carry 0)`);
  if (problems.length) throw invalid(app, problems.join('; '));
  return normalized;
}

/** Resolves `latestRevision` entries to the revision they name now, and gives tags their URLs. */
export function resolveTraffic(app: string, domain: string, traffic: readonly TrafficTarget[], revisions: readonly Revision[]): ResolvedTraffic[] {
  const latest = latestReady(revisions)?.name;
  return traffic.map((t) => ({
    ...t,
    revisionName: t.latestRevision ? latest : t.revision,
    ...(t.tag !== undefined ? { url: tagUrl(t.tag, app, domain) } : {}),
  }));
}

/** An app's status from its route and revisions (any target). */
export function appStatus(app: string, target: string, domain: string, route: RouteRecord | undefined, revisions: readonly Revision[]): AppStatus {
  const traffic = resolveTraffic(app, domain, route?.traffic ?? [], revisions);
  return {
    app,
    target,
    url: appUrl(app, domain),
    traffic,
    generation: route?.generation ?? 0,
    revisions: revisions
      .filter((r) => r.state !== 'deleted')
      .map((r) => {
        const mine = traffic.filter((t) => t.revisionName === r.name);
        return { ...r, percent: mine.reduce((s, t) => s + t.percent, 0), tags: mine.flatMap((t) => (t.tag ? [t.tag] : [])) };
      }),
  };
}

/** Production promotion: all traffic to `revision`; tags stay where they were, at 0%. */
export function moveAllTraffic(traffic: readonly TrafficTarget[], revision: string): TrafficTarget[] {
  const tagged = traffic.filter((t) => t.tag !== undefined).map((t) => ({ ...t, percent: 0 }));
  return [{ revision, percent: 100 }, ...tagged];
}

/** Drops `tag`: an entry that only carried the tag goes, one that also carries traffic keeps it. */
export function withoutTag(traffic: readonly TrafficTarget[], tag: string): TrafficTarget[] {
  return traffic.flatMap((t) => {
    if (t.tag !== tag) return [t];
    if (t.percent === 0) return [];
    return [{ ...(t.latestRevision ? { latestRevision: true } : { revision: t.revision }), percent: t.percent }];
  });
}

/** Points `tag` at `revision` at 0% (a preview), leaving the app's split alone. */
export function withTag(traffic: readonly TrafficTarget[], tag: string, revision: string): TrafficTarget[] {
  return [...withoutTag(traffic, tag), { revision, percent: 0, tag }];
}

/**
 * Revisions garbage collection may delete: not referenced by the traffic block (explicitly, through a
 * tag or as the current latest), not being deployed right now (`created`), and beyond the newest
 * `keep` of the unreferenced ones (Knative's min-non-active-revisions).
 */
export function collectable(revisions: readonly Revision[], traffic: readonly ResolvedTraffic[], keep: number): Revision[] {
  const referenced = new Set(traffic.flatMap((t) => (t.revisionName ? [t.revisionName] : [])));
  const latest = latestReady(revisions);
  if (latest) referenced.add(latest.name);
  const idle = revisions.filter((r) => r.state !== 'deleted' && r.state !== 'created' && !referenced.has(r.name)).sort((a, b) => b.n - a.n);
  return idle.slice(keep);
}
