import type { FastifyInstance } from 'fastify';

/**
 * Headers every answer carries: no content sniffing (a log served as text/plain stays text), no framing,
 * no referrer leaking build ids, and for HTML a policy that allows only the page's own origin and no
 * script at all (the build page has none), so an escaped value that slipped through still cannot run.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      void reply.header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
    }
    return payload;
  });
}
