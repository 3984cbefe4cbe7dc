import { Elysia } from 'elysia';
import { z } from 'zod';
import { pingDatabase } from '../../db/open.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import type { Metrics } from '../../shared/metrics.ts';
import { agentProtocol, apiReferenceText, llmsText, type OpenApiDoc, sellerOnboardingText, skillText } from './documents.ts';
import { VERSION } from '../../version.ts';
import { op } from '../../shared/http/openapi/operation.ts';

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.enum(['ok', 'unavailable']),
  time: z.string(),
});

/** Health, metrics and the machine-readable surfaces of this instance. */
/** `feeBps`: the marketplace fee in force (the console's setting unless env or a flag fixes it). */
export function surfacesModule(deps: CoreDeps & { metrics: Metrics; openapiDocument: () => Promise<OpenApiDoc>; feeBps: () => number }) {
  let doc: Promise<OpenApiDoc> | null = null;
  // The document is fixed once the app is built: generate it on first use, then reuse it.
  const openapi = () => (doc ??= deps.openapiDocument());
  const text = (body: string, type: string) => new Response(body, { headers: { 'content-type': `${type}; charset=utf-8` } });
  const markdown = (body: string) => text(body, 'text/markdown');
  // Text documents: their media type is the whole contract.
  const textDoc = (operationId: string, summary: string, type: string, tags = ['discovery']) => ({
    detail: op(operationId, summary, { tags, responses: { 200: { description: summary, content: { [type]: { schema: { type: 'string' } } } } } }),
  });
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
  const healthOptions = (operationId: string) => ({
    response: { 200: healthSchema, 503: healthSchema },
    detail: op(operationId, 'Liveness and database status', { description: '503 with database "unavailable" when the database does not answer.', tags: ['operations'] }),
  });
  return new Elysia()
    .get('/health', health, healthOptions('getHealth'))
    .get('/api/v1/health', health, healthOptions('getApiHealth'))
    .get('/agent-skill', () => markdown(skillText(deps.config)), textDoc('getAgentSkill', 'Operational skill for agents: buying and selling (Markdown)', 'text/markdown'))
    .get('/SKILL.md', () => markdown(skillText(deps.config)), textDoc('getSkillMd', 'The same skill at /SKILL.md (Markdown)', 'text/markdown'))
    .get('/seller-onboarding', () => markdown(sellerOnboardingText(deps.config)), textDoc('getSellerOnboarding', 'How to sell on this instance (Markdown)', 'text/markdown'))
    .get('/llms.txt', () => text(llmsText(deps.config), 'text/plain'), textDoc('getLlmsTxt', 'llms.txt index of the documents', 'text/plain'))
    .get('/docs/api-reference.txt', async () => text(apiReferenceText(deps.config, await openapi()), 'text/plain'), textDoc('getApiReference', 'Every route with the credential it needs, as text', 'text/plain'))
    .get('/.well-known/agent-protocol.json', async () => agentProtocol(deps.config, await openapi(), deps.feeBps()), {
      detail: op('getAgentProtocol', 'Discovery metadata and endpoint inventory (with the credential each route needs)', {
        tags: ['discovery'],
        responses: { 200: { description: 'Discovery document', content: { 'application/json': { schema: { type: 'object' } } } } },
      }),
    })
    .get(
      '/metrics',
      () => new Response(deps.metrics.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }),
      textDoc('getMetrics', 'Prometheus metrics', 'text/plain', ['operations']),
    );
}
