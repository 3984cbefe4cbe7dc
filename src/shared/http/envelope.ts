import { z } from 'zod';

/** `{ success: true, data }` */
export const ok = <T>(data: T) => ({ success: true as const, data });

export type Pagination = { page: number; limit: number; total: number; totalPages: number };

/** `{ success: true, data, pagination }` for list routes. */
export const paged = <T>(data: T[], page: number, limit: number, total: number) => ({
  success: true as const,
  data,
  pagination: { page, limit, total, totalPages: Math.ceil(total / limit) } satisfies Pagination,
});

/** Response schema for `ok(data)`. Declaring it strips any field the schema does not name. */
export const okSchema = <S extends z.ZodType>(data: S) => z.object({ success: z.literal(true), data });

export const paginationSchema = z
  .object({
    page: z.number().int().describe('This page, from 1.'),
    limit: z.number().int().describe('Items per page (at most 100).'),
    total: z.number().int().describe('Items on all pages.'),
    totalPages: z.number().int().describe('Pages in all; 0 when there are no items.'),
  })
  .meta({ id: 'Pagination', description: 'Where a page sits in a list: ask for more with ?page=…&limit=….' });

/** Response schema for `paged(...)`. */
export const pagedSchema = <S extends z.ZodType>(item: S) => z.object({ success: z.literal(true), data: z.array(item), pagination: paginationSchema });

/** `page` (default 1) and `limit` (default 20, max 100) query fields. */
export const paginationQuery = {
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).describe('Page to return, from 1 (default 1).'),
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Items per page, 1–100 (default 20).'),
};

/**
 * An ISO-8601 time with an offset (`2026-05-03T12:00:00.000Z`, `…+02:00`) in a query, normalised to
 * UTC with milliseconds so it compares correctly with stored times.
 */
export const isoTimeQuery = z.iso
  .datetime({ offset: true, message: 'expected an ISO-8601 time like 2026-05-03T12:00:00.000Z' })
  .transform((s) => new Date(s).toISOString());

/** What an agent should do after an error (SPEC §1). */
export const recoverySchema = z
  .object({
    retryable: z.boolean().describe('Whether the same request can succeed later (possibly after next_action).'),
    next_action: z.string().describe('Stable snake_case verb: fix_request, retry_later, restart_challenge, complete_payment_and_retry, link_solana_wallet, …'),
    summary: z.string().optional().describe('What to do, in one sentence.'),
    preserve: z.array(z.string()).optional().describe('Fields or headers to keep for the retry (e.g. relay_request_id, body).'),
    discard: z.array(z.string()).optional().describe('Fields or headers to drop before retrying.'),
    retry_after_seconds: z.number().optional().describe('Seconds to wait before retrying.'),
    docs_url: z.string().optional().describe('Documentation on this instance.'),
    reference_url: z.string().optional().describe('A resource on this instance that helps.'),
  })
  .meta({ id: 'Recovery', description: 'What to do next after an error.' });

/** The error envelope, for OpenAPI response declarations. */
export const errorSchema = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string().describe('Stable SCREAMING_SNAKE code; the codes of each operation are listed in its x-error-codes.'),
      message: z.string().describe('Human-readable; never contains secrets.'),
      details: z.record(z.string(), z.unknown()).optional().describe('Structured facts about the error (e.g. validation issues).'),
      recovery: recoverySchema.optional(),
    }),
  })
  .meta({ id: 'Error', description: 'Every error: `{ success: false, error: { code, message, details?, recovery? } }`.' });

/**
 * Route options for a JSON body. The global parser does the reading (any content type, size cap,
 * INVALID_JSON); naming `json` here tells the OpenAPI generator the body's media type.
 */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({ body: schema, parse: 'json' as const });
