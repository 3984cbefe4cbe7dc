import type { Config } from '../../config.ts';
import { CREDENTIALS, type Credential } from '../../shared/http/openapi/operation.ts';
import { VERSION } from '../../version.ts';
import llms from './texts/llms.txt' with { type: 'text' };
import sellerOnboarding from './texts/seller-onboarding.md' with { type: 'text' };
import skill from './texts/skill.md' with { type: 'text' };

/** The subset of an OpenAPI document the text surfaces read. */
export type OpenApiDoc = {
  paths?: Record<string, Record<string, { summary?: string; description?: string; security?: Record<string, unknown>[] } | undefined>>;
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const fill = (text: string, config: Config) => text.replaceAll('{{BASE_URL}}', config.public_url);

export const skillText = (config: Config) => fill(skill, config);
export const sellerOnboardingText = (config: Config) => fill(sellerOnboarding, config);
export const llmsText = (config: Config) => fill(llms, config);

type Access = { credentials: Credential[]; optional: boolean };

/** Which credentials an operation takes: none (public), one required, or optional (`[{}, …]`). */
function accessOf(security: Record<string, unknown>[] | undefined): Access {
  const requirements = security ?? [];
  const credentials = [...new Set(requirements.flatMap((r) => Object.keys(r)))] as Credential[];
  return { credentials, optional: requirements.some((r) => Object.keys(r).length === 0) };
}

const accessText = ({ credentials, optional }: Access) =>
  credentials.length === 0 ? 'public' : `${optional ? 'optional: ' : ''}${credentials.map((c) => CREDENTIALS[c] ?? c).join(' or ')}`;

function operations(doc: OpenApiDoc) {
  const out: { method: string; path: string; summary: string; access: Access }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) out.push({ method: method.toUpperCase(), path, summary: op.summary ?? '', access: accessOf(op.security) });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** Plain-text route list, generated from the live OpenAPI document so it cannot drift. */
export function apiReferenceText(config: Config, doc: OpenApiDoc): string {
  const lines = operations(doc).map(
    (o) => `${o.method.padEnd(7)}${config.public_url}${o.path}${o.summary ? `\n       ${o.summary}` : ''}\n       auth: ${accessText(o.access)}`,
  );
  return [
    `Crochet ${VERSION} — API reference for ${config.public_url}`,
    '',
    'JSON in and out. Success: { "success": true, "data": … }. Errors: { "success": false, "error": { code, message, details?, recovery? } }.',
    'Each route names the credential it needs ("auth:"): public, an agent API key (Authorization: Bearer am_k_…, see /SKILL.md), or the cron secret.',
    'Full schemas, error codes per route (x-error-codes) and examples: /api/openapi.json.',
    '',
    ...lines,
    '',
  ].join('\n');
}

/** Discovery metadata and endpoint inventory (`/.well-known/agent-protocol.json`). */
export function agentProtocol(config: Config, doc: OpenApiDoc) {
  const base = config.public_url;
  return {
    name: 'Crochet',
    description: 'Agent-to-agent API marketplace and pay-per-call gateway.',
    version: VERSION,
    base_url: base,
    api_base: `${base}/api/v1`,
    documents: {
      openapi: `${base}/api/openapi.json`,
      skill: `${base}/SKILL.md`,
      seller_onboarding: `${base}/seller-onboarding`,
      api_reference: `${base}/docs/api-reference.txt`,
      llms: `${base}/llms.txt`,
      interactive_docs: `${base}/api/docs`,
    },
    authentication: {
      type: 'bearer',
      header: 'Authorization',
      format: 'Bearer am_k_…',
      obtain: { challenge: `${base}/api/v1/auth/challenge`, register: `${base}/api/v1/register`, recover: `${base}/api/v1/auth/recover` },
      wallets: ['evm', 'solana'],
      proof_of_work: 'sha256',
      credentials: CREDENTIALS,
    },
    gateway: {
      url_template: `${base}/api/v1/gateway/{listing_id}`,
      headers: ['X-Crochet-Relay-Request-Id', 'X-Crochet-Payment-Tx', 'X-Crochet-Origin-Currency', 'PAYMENT-SIGNATURE'],
    },
    // A stock x402 v2 client pays the 402 on its own (routes that have a settling key).
    x402: {
      version: 2,
      offers_header: 'PAYMENT-REQUIRED',
      payment_header: 'PAYMENT-SIGNATURE',
      response_header: 'PAYMENT-RESPONSE',
      discovery: `${base}/discovery/resources`,
    },
    payments: {
      currency: 'USDC',
      routes: config.payment_routes.map((r) => ({ network: r.network, asset: r.asset, decimals: r.decimals, min_amount: r.min_amount })),
      fee_bps: config.fee_bps,
    },
    endpoints: operations(doc).map((o) => ({
      method: o.method,
      url: `${base}${o.path}`,
      summary: o.summary,
      auth: o.access.credentials.length === 0 ? 'none' : o.access.optional ? 'optional' : 'required',
      credentials: o.access.credentials,
    })),
  };
}
