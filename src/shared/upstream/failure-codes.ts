import type { UpstreamFailureReason } from './client.ts';

/**
 * One error code per way a seller can fail to answer usably, shared by the gateway (what buyers
 * see) and the endpoint test (what sellers see), so both name the same failure the same way.
 */
export const UPSTREAM_FAILURE_CODES: Readonly<Record<UpstreamFailureReason, string>> = {
  timeout: 'UPSTREAM_TIMEOUT',
  connect_failed: 'UPSTREAM_UNREACHABLE',
  tls_failed: 'UPSTREAM_TLS_FAILED',
  redirect: 'UPSTREAM_REDIRECT',
  too_large: 'UPSTREAM_RESPONSE_TOO_LARGE',
  not_json: 'UPSTREAM_INVALID_RESPONSE',
  too_deep: 'UPSTREAM_JSON_TOO_DEEP',
};

/** Codes for a seller that answered, but not with a success: 5xx, and 4xx (passed through by the gateway). */
export const SELLER_ANSWER_CODES = { serverError: 'UPSTREAM_ERROR', rejected: 'UPSTREAM_REJECTED' } as const;
