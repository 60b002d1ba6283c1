import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process, made here and passed down (no global default registry, so
 * tests can build many apps in one process).
 */
export interface Metrics {
  registry: Registry;
  webhooks: Counter<'forge' | 'result'>;
  stageDuration: Histogram<'stage' | 'outcome'>;
  queueDepth: Gauge<'state'>;
  /** Every enforcer decision line read from a served container, stored or not (display only: the app can forge them). */
  enforcerDecisions: Counter<'app' | 'revision' | 'decision'>;
  /** Decision lines not stored because their revision hit the per-minute row cap. */
  enforcerDecisionsUnstored: Counter<'app'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'slipway_' });
  return {
    registry,
    webhooks: new Counter({
      name: 'slipway_webhooks_total',
      help: 'Webhook deliveries by forge and result (accepted, duplicate, ignored, unauthorized, malformed, too_large, media_type).',
      labelNames: ['forge', 'result'],
      registers: [registry],
    }),
    stageDuration: new Histogram({
      name: 'slipway_stage_duration_seconds',
      help: 'Pipeline stage durations by stage and outcome (done, failed, canceled).',
      labelNames: ['stage', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'slipway_queue_jobs',
      help: 'Jobs in the builds queue by state, read when scraped.',
      labelNames: ['state'],
      registers: [registry],
    }),
    enforcerDecisions: new Counter({
      name: 'slipway_enforcer_decisions_total',
      help: "Enforcer decision lines read from served containers' stderr, by app, revision and decision (denied, audited, allowed). The app can print forged lines: display only.",
      labelNames: ['app', 'revision', 'decision'],
      registers: [registry],
    }),
    enforcerDecisionsUnstored: new Counter({
      name: 'slipway_enforcer_decisions_unstored_total',
      help: 'Enforcer decision lines counted but not stored: their revision reached the per-minute row cap.',
      labelNames: ['app'],
      registers: [registry],
    }),
  };
}
