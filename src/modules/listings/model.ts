import { z } from 'zod';
import { paginationQuery } from '../../shared/http/envelope.ts';
import { ENDPOINT_STATUSES, LISTING_STATUSES, OWNER_LISTING_STATUSES, PRICING_MODELS } from './schema.ts';
import { TIERS } from '../../shared/tiers.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const tag = z.string().trim().toLowerCase().min(1).max(32);
const price = z.union([z.number(), z.string().max(40)]);
const endpointUrl = z.string().min(1).max(2048);

export const MIN_TIMEOUT_MS = 1_000;
export const MAX_TIMEOUT_MS = 60_000;
export const MIN_BODY_LIMIT_BYTES = 1024;
export const MAX_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
export const MAX_GRACE_SECONDS = 30 * 86_400;

// ── requests ────────────────────────────────────────────────────────────────

export const idParams = z.object({ id: z.string().min(1).max(128).describe('Listing id or slug.') });

// Field descriptions, shared by creation and change.
const about = {
  name: 'Public name of the listing.',
  description: 'What the API does, its input and its output.',
  category: 'A category slug from GET /api/v1/categories.',
  tags: 'Up to 10 search tags.',
  delivery_type: 'Always api.',
  auth_method: 'Always none: buyers authenticate to Crochet, not to you.',
  formats: 'Always ["json"].',
  connection_instructions: 'How to call it: the body your endpoint expects, with an example.',
  pricing_model: 'free, or per_call (paid on chain before each call is forwarded).',
  pricing_amount: 'Price per call in decimal USD (0 for free), e.g. "0.01".',
  pricing_currency: 'Always USD.',
  private_endpoint_url: 'Your HTTPS POST endpoint; never shown to buyers. Needed to publish (status active).',
  status: 'draft (hidden), active (callable), paused or archived. suspended is set by the operator only; a suspended listing cannot be changed by its seller.',
};

export const createListingBody = z.object({
  pow_nonce: z.string().min(1).max(128).describe('Solves the pow of POST /api/v1/listings/challenge.'),
  name: text(120).describe(about.name),
  description: text(5000).describe(about.description),
  category: z.string().trim().toLowerCase().min(1).max(64).describe(about.category),
  tags: z.array(tag).max(10).default([]).describe(about.tags),
  delivery_type: z.literal('api').default('api').describe(about.delivery_type),
  auth_method: z.literal('none').default('none').describe(about.auth_method),
  formats: z.array(z.literal('json')).length(1).default(['json']).describe(about.formats),
  connection_instructions: z.string().trim().max(5000).default('').describe(about.connection_instructions),
  pricing_model: z.enum(PRICING_MODELS).describe(about.pricing_model),
  pricing_amount: price.describe(about.pricing_amount),
  pricing_currency: z.literal('USD').default('USD').describe(about.pricing_currency),
  private_endpoint_url: endpointUrl.optional().describe(about.private_endpoint_url),
  status: z.enum(OWNER_LISTING_STATUSES).default('draft').describe(about.status),
});
export type CreateListingInput = z.infer<typeof createListingBody>;

export const patchListingBody = z
  .object({
    name: text(120).describe(about.name),
    description: text(5000).describe(about.description),
    category: z.string().trim().toLowerCase().min(1).max(64).describe(about.category),
    tags: z.array(tag).max(10).describe(about.tags),
    delivery_type: z.literal('api').describe(about.delivery_type),
    auth_method: z.literal('none').describe(about.auth_method),
    formats: z.array(z.literal('json')).length(1).describe(about.formats),
    connection_instructions: z.string().trim().max(5000).describe(about.connection_instructions),
    pricing_model: z.enum(PRICING_MODELS).describe(about.pricing_model),
    pricing_amount: price.describe(about.pricing_amount),
    pricing_currency: z.literal('USD').describe(about.pricing_currency),
    private_endpoint_url: endpointUrl.describe(about.private_endpoint_url),
    status: z.enum(OWNER_LISTING_STATUSES).describe(about.status),
  })
  .partial()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'send at least one field to change');
export type PatchListingInput = z.infer<typeof patchListingBody>;

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const SORTS = ['newest', 'popular', 'price_low', 'price_high', 'rating'] as const;
export type ListingSort = (typeof SORTS)[number];

export const searchQuery = z.object({
  /** Free text; without `sort` results come by relevance. */
  q: z.string().max(1000).optional().describe('Free text over name, description and tags.'),
  category: z.string().trim().toLowerCase().min(1).max(64).optional().describe('Only this category slug.'),
  pricing_model: z.enum(PRICING_MODELS).optional().describe('Only free or only per_call listings.'),
  min_score: z.coerce.number().int().min(0).max(1000).optional().describe('Only providers with at least this Crochet Score (0–1000).'),
  verified: flag.optional().describe('true: only providers with the verified checkmark.'),
  sort: z.enum(SORTS).optional().describe('Order; without it, by relevance to q (else newest).'),
  ...paginationQuery,
});
export type SearchQuery = z.infer<typeof searchQuery>;

export const mineQuery = z.object({ status: z.enum(LISTING_STATUSES).optional().describe('Only listings in this status.'), ...paginationQuery });

export const updateEndpointBody = z
  .object({
    private_endpoint_url: endpointUrl.describe(about.private_endpoint_url),
    upstream_auth_header_name: z.string().trim().min(1).max(64).nullable().describe('A header the gateway adds to each call to your endpoint (e.g. X-Api-Key); null removes it.'),
    upstream_auth_header_value: z.string().min(1).max(4096).nullable().describe('Its value, stored encrypted and never shown again; null removes it.'),
    timeout_ms: z.number().int().min(MIN_TIMEOUT_MS).max(MAX_TIMEOUT_MS).describe('How long the gateway waits for your answer.'),
    max_request_bytes: z.number().int().min(MIN_BODY_LIMIT_BYTES).max(MAX_BODY_LIMIT_BYTES).describe('Largest buyer body forwarded.'),
    max_response_bytes: z.number().int().min(MIN_BODY_LIMIT_BYTES).max(MAX_BODY_LIMIT_BYTES).describe('Largest reply accepted from your endpoint.'),
    status: z.enum(ENDPOINT_STATUSES).describe('disabled stops forwarding (buyers get 409 ENDPOINT_DISABLED).'),
  })
  .partial()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'send at least one field to change');
export type UpdateEndpointInput = z.infer<typeof updateEndpointBody>;

export const rotateSecretBody = z.object({
  grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(86_400).describe('How long the old secret keeps signing a second header (default one day).'),
});

// ── responses: every field that may leave the server is named here ─────────

export const categorySchema = z.object({ id: z.string(), slug: z.string(), name: z.string() });

export const powSchema = z.object({
  algorithm: z.literal('sha256'),
  challenge: z.string(),
  difficulty: z.number().int(),
  expires_at: z.string(),
});
export const listingChallengeSchema = z.object({ pow: powSchema });

export const providerSchema = z.object({
  id: z.string(),
  display_name: z.string(),
  account_type: z.enum(['agent', 'human', 'human_claimed_agent']),
  score: z.number().int(),
  tier: z.enum(TIERS),
  verified: z.boolean(),
});

export const listingSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  tags: z.array(z.string()),
  delivery_type: z.literal('api'),
  auth_method: z.literal('none'),
  formats: z.array(z.literal('json')),
  connection_instructions: z.string(),
  pricing_model: z.enum(PRICING_MODELS),
  pricing_amount: z.string(),
  pricing_currency: z.literal('USD'),
  status: z.enum(LISTING_STATUSES),
  gateway_url: z.string(),
  provider: providerSchema,
  rating: z.object({ average: z.number(), count: z.number().int() }),
  stats: z.object({ calls: z.number().int(), success_rate: z.number().nullable(), p50_latency_ms: z.number().int().nullable() }),
  created_at: z.string(),
  updated_at: z.string(),
}).meta({ id: 'Listing', description: 'A listing as buyers see it: price, gateway URL, provider score, rating and usage.' });
export type ListingView = z.infer<typeof listingSchema>;

const limitsShape = {
  status: z.enum(ENDPOINT_STATUSES),
  timeout_ms: z.number().int(),
  max_request_bytes: z.number().int(),
  max_response_bytes: z.number().int(),
  /** Host (and port) of the private URL; the path and query are never shown again. */
  host: z.string().nullable(),
  has_upstream_auth: z.boolean(),
};

/** The endpoint as the creation response shows it: the signing secret, this once. */
export const createdEndpointSchema = z.object({ signing_secret: z.string(), secret_prefix: z.string(), ...limitsShape });

export const lastTestSchema = z.object({
  ok: z.boolean(),
  status: z.number().int().nullable(),
  latency_ms: z.number().int().nullable(),
  json: z.boolean(),
  error_code: z.string().nullable(),
  tested_at: z.string(),
});

/** Safe endpoint metadata for the owner: no URL path, no auth value, no secret. */
export const endpointMetadataSchema = z.object({
  listing_id: z.string(),
  configured: z.boolean(),
  ...limitsShape,
  upstream_auth_header_name: z.string().nullable(),
  secret_prefix: z.string(),
  secret_rotated_at: z.string().nullable(),
  previous_secret_valid_until: z.string().nullable(),
  last_test: lastTestSchema.nullable(),
  updated_at: z.string(),
});
export type EndpointMetadata = z.infer<typeof endpointMetadataSchema>;

const warnings = z.array(z.string());
export const createdListingSchema = listingSchema
  .extend({ gateway_endpoint: createdEndpointSchema, warnings })
  .meta({ id: 'CreatedListing', description: 'The new listing, with its endpoint and signing secret (shown this once).' });
export const patchedListingSchema = listingSchema.extend({ warnings });
export const updatedEndpointSchema = endpointMetadataSchema.extend({ warnings });

export const endpointTestSchema = z.object({
  ok: z.boolean(),
  status: z.number().int().nullable(),
  latency_ms: z.number().int().nullable(),
  json: z.boolean(),
  error_code: z.string().optional(),
  request_id: z.string(),
  tested_at: z.string(),
});

export const rotatedSecretSchema = z.object({
  signing_secret: z.string(),
  secret_prefix: z.string(),
  secret_rotated_at: z.string(),
  previous_secret_valid_until: z.string().nullable(),
});
