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

/** Response schema for `paged(...)`. */
export const pagedSchema = <S extends z.ZodType>(item: S) =>
  z.object({
    success: z.literal(true),
    data: z.array(item),
    pagination: z.object({ page: z.number().int(), limit: z.number().int(), total: z.number().int(), totalPages: z.number().int() }),
  });

/** `page` (default 1) and `limit` (default 20, max 100) query fields. */
export const paginationQuery = {
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

/**
 * An ISO-8601 time with an offset (`2026-05-03T12:00:00.000Z`, `…+02:00`) in a query, normalised to
 * UTC with milliseconds so it compares correctly with stored times.
 */
export const isoTimeQuery = z.iso
  .datetime({ offset: true, message: 'expected an ISO-8601 time like 2026-05-03T12:00:00.000Z' })
  .transform((s) => new Date(s).toISOString());

/** The error envelope, for OpenAPI response declarations. */
export const errorSchema = z.object({
  success: z.literal(false),
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    recovery: z
      .object({
        retryable: z.boolean(),
        next_action: z.string(),
        summary: z.string().optional(),
        preserve: z.array(z.string()).optional(),
        discard: z.array(z.string()).optional(),
        retry_after_seconds: z.number().optional(),
        docs_url: z.string().optional(),
        reference_url: z.string().optional(),
      })
      .optional(),
  }),
});

/**
 * Route options for a JSON body. The global parser does the reading (any content type, size cap,
 * INVALID_JSON); naming `json` here tells the OpenAPI generator the body's media type.
 */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({ body: schema, parse: 'json' as const });
