import { Elysia } from 'elysia';
import { z } from 'zod';
import { op } from '../../shared/http/openapi/operation.ts';
import { listDiscoveryResources } from './discovery.ts';
import type { X402Deps } from './offers.ts';

const requirementSchema = z.object({
  scheme: z.string(),
  network: z.string(),
  amount: z.string(),
  asset: z.string(),
  payTo: z.string(),
  maxTimeoutSeconds: z.number().int(),
  extra: z.record(z.string(), z.unknown()),
});

const resourceSchema = z.object({
  resource: z.string().describe('The listing\'s gateway URL (POST the JSON body; the 402 carries the bound offer).'),
  type: z.literal('http'),
  x402Version: z.number().int(),
  accepts: z.array(requirementSchema).describe('One `exact` requirement per route that settles x402, unbound (the price only).'),
  lastUpdated: z.string(),
  description: z.string(),
  mimeType: z.string(),
  serviceName: z.string(),
  tags: z.array(z.string()),
  metadata: z.object({ listing_id: z.string(), slug: z.string(), category: z.string(), price: z.string().describe('Decimal USD per call.') }),
});

export const discoveryResponseSchema = z
  .object({
    x402Version: z.number().int(),
    items: z.array(resourceSchema),
    pagination: z.object({ limit: z.number().int(), offset: z.number().int(), total: z.number().int() }),
  })
  .meta({ id: 'X402DiscoveryResources', description: 'The x402 Bazaar discovery shape (DiscoveryResourcesResponse).' });

const discoveryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Resources per page (1–100).'),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0).describe('Resources to skip.'),
  type: z.string().max(20).optional().describe('Protocol type; only "http" has resources here.'),
  scheme: z.string().max(40).optional().describe('Payment scheme; only "exact" has resources here.'),
  network: z.string().max(100).optional().describe('Keep only offers on this CAIP-2 network.'),
  payTo: z.string().max(100).optional().describe('Keep only offers paying this address.'),
  extensions: z.string().max(100).optional().describe('Accepted for compatibility with discovery clients; ignored.'),
});


/** x402 discovery: the paid listings an x402 client can pay here. Public. */
export function x402Module(deps: X402Deps) {
  return new Elysia({ tags: ['discovery'] }).get('/discovery/resources', ({ query }) => listDiscoveryResources(deps, query), {
    query: discoveryQuery,
    response: discoveryResponseSchema,
    detail: op('listX402Resources', 'Paid listings in the x402 Bazaar discovery shape (public, paginated)', {
      description: 'What an x402 discovery client (`withBazaar(new HTTPFacilitatorClient({ url: <this instance> })).extensions.bazaar.listResources()`) reads: each active paid listing, its gateway URL and one `exact` requirement per route that settles x402. Empty when no route has a settling key.',
    }),
  });
}
