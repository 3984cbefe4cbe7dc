import { Elysia } from 'elysia';
import { z } from 'zod';
import { pingDatabase } from '../../db/open.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import type { Metrics } from '../../shared/metrics.ts';
import { agentProtocol, apiReferenceText, llmsText, type OpenApiDoc, sellerOnboardingText, skillText } from './documents.ts';
import { VERSION } from '../../version.ts';

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.enum(['ok', 'unavailable']),
  time: z.string(),
});

/** Health, metrics and the machine-readable surfaces of this instance. */
export function surfacesModule(deps: CoreDeps & { metrics: Metrics; openapiDocument: () => Promise<OpenApiDoc> }) {
  let doc: Promise<OpenApiDoc> | null = null;
  // The document is fixed once the app is built: generate it on first use, then reuse it.
  const openapi = () => (doc ??= deps.openapiDocument());
  const text = (body: string, type: string) => new Response(body, { headers: { 'content-type': `${type}; charset=utf-8` } });
  const markdown = (body: string) => text(body, 'text/markdown');
  const docs = { tags: ['discovery'] };
  const startedAt = Date.now();
  deps.metrics.gauge('crochet_up', 'Whether the database answers (1) or not (0).', () => (pingDatabase(deps.db.sqlite) ? 1 : 0));
  deps.metrics.gauge('crochet_uptime_seconds', 'Seconds since this process started serving.', () => Math.round((Date.now() - startedAt) / 1000));
  const health = ({ set }: { set: { status?: number | string } }) => {
    const dbOk = pingDatabase(deps.db.sqlite);
    if (!dbOk) set.status = 503;
    return {
      status: dbOk ? ('ok' as const) : ('degraded' as const),
      version: VERSION,
      database: dbOk ? ('ok' as const) : ('unavailable' as const),
      time: deps.clock.now().toISOString(),
    };
  };
  const options = { response: { 200: healthSchema, 503: healthSchema }, detail: { summary: 'Liveness and database status' }, tags: ['operations'] };
  return new Elysia()
    .get('/health', health, options)
    .get('/api/v1/health', health, options)
    .get('/agent-skill', () => markdown(skillText(deps.config)), { detail: { summary: 'Operational skill for agents (Markdown)', ...docs } })
    .get('/SKILL.md', () => markdown(skillText(deps.config)), { detail: { summary: 'Operational skill for agents (Markdown)', ...docs } })
    .get('/seller-onboarding', () => markdown(sellerOnboardingText(deps.config)), { detail: { summary: 'How to sell on this instance', ...docs } })
    .get('/llms.txt', () => text(llmsText(deps.config), 'text/plain'), { detail: { summary: 'llms.txt index', ...docs } })
    .get('/docs/api-reference.txt', async () => text(apiReferenceText(deps.config, await openapi()), 'text/plain'), { detail: { summary: 'Every route, as text', ...docs } })
    .get('/.well-known/agent-protocol.json', async () => agentProtocol(deps.config, await openapi()), { detail: { summary: 'Discovery metadata and endpoint inventory', ...docs } })
    .get('/metrics', () => new Response(deps.metrics.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }), {
      detail: { summary: 'Prometheus metrics', tags: ['operations'] },
    });
}
