import { appHost, tagHost } from '../names.js';
import { resolveTraffic } from '../traffic.js';
import type { Revision, RouteRecord } from '../types.js';

/**
 * Host → revision choice, rebuilt from the stored routes: `<app>.<domain>` splits by percent,
 * `<tag>-<app>.<domain>` always picks the tagged revision (docs/architecture.md).
 */

/**
 * Smooth weighted round-robin (nginx's upstream algorithm): each pick adds every weight to its
 * counter and takes the largest, which then pays back the total. Over any run of `total` picks the
 * split is exact (80/20 → 8 of 10), and picks interleave instead of coming in bursts — a random draw
 * would only be right on average.
 */
export class WeightedChoice {
  private readonly current: number[];
  private readonly total: number;

  constructor(private readonly entries: readonly { revision: string; weight: number }[]) {
    this.current = entries.map(() => 0);
    this.total = entries.reduce((s, e) => s + e.weight, 0);
  }

  pick(): string | undefined {
    if (this.total === 0) return undefined;
    let best = 0;
    for (let i = 0; i < this.entries.length; i++) {
      this.current[i]! += this.entries[i]!.weight;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return this.entries[best]!.revision;
  }
}

export interface HostRoute {
  app: string;
  /** Set for tag hosts. */
  tag?: string;
  choice: WeightedChoice;
}

/** One entry per host the target serves. */
export function buildRouteTable(domain: string, routes: readonly RouteRecord[], revisions: readonly Revision[]): Map<string, HostRoute> {
  const byApp = new Map<string, Revision[]>();
  for (const r of revisions) byApp.set(r.app, [...(byApp.get(r.app) ?? []), r]);
  const table = new Map<string, HostRoute>();
  for (const route of routes) {
    const resolved = resolveTraffic(route.app, domain, route.traffic, byApp.get(route.app) ?? []);
    // The same revision may appear in several entries (one per tag): weights add up.
    const weights = new Map<string, number>();
    for (const t of resolved) if (t.revisionName && t.percent > 0) weights.set(t.revisionName, (weights.get(t.revisionName) ?? 0) + t.percent);
    table.set(appHost(route.app, domain), { app: route.app, choice: new WeightedChoice([...weights].map(([revision, weight]) => ({ revision, weight }))) });
    for (const t of resolved) {
      if (!t.tag || !t.revisionName) continue;
      const host = tagHost(t.tag, route.app, domain);
      // An app host wins over a tag host that happens to spell the same name.
      if (!table.has(host)) table.set(host, { app: route.app, tag: t.tag, choice: new WeightedChoice([{ revision: t.revisionName, weight: 1 }]) });
    }
  }
  return table;
}

/** What the table depends on: rebuilding only when it changes keeps the round-robin counters going. */
export function routeTableKey(routes: readonly RouteRecord[], revisions: readonly Revision[]): string {
  const ready = revisions.filter((r) => r.state === 'ready').map((r) => r.name);
  return JSON.stringify([routes.map((r) => [r.app, r.generation]), ready]);
}
