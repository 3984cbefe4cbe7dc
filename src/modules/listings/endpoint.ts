/** Owner endpoint management: safe metadata, updates, the test call and secret rotation. */
import { eq } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { prefixedId } from '../../shared/ids.ts';
import type { UpstreamOutcome } from '../../shared/upstream/client.ts';
import { isReservedHeaderName } from '../../shared/upstream/forwarded-headers.ts';
import { systemResolver } from '../../shared/upstream/guard.ts';
import { sendSignedCall } from '../../shared/upstream/send-signed.ts';
import { recordEndpointTest } from './endpoint-tests.ts';
import { type SelfAwareDeps, endpointRow, hostOf, newSigningSecret, open, previousInGrace, seal, secretPrefixOf, setPrivateUrl, vetForSave } from './endpoint-store.ts';
import { ListingErrors } from './errors.ts';
import { forgetGatewayTarget, getGatewayTarget, type TargetDeps } from './gateway-target.ts';
import type { EndpointMetadata, UpdateEndpointInput } from './model.ts';
import { listingGatewayEndpoints, type GatewayEndpoint } from './schema.ts';
import { requireOwnedListing } from './store.ts';
import { SELLER_ANSWER_CODES, UPSTREAM_FAILURE_CODES } from '../../shared/upstream/failure-codes.ts';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII with inner spaces: no CR/LF (header injection), no NUL, nothing a proxy would fold.
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const TEST_BODY = new TextEncoder().encode('{"crochet_test":true}');

function requireEndpoint(deps: CoreDeps, listingId: string): GatewayEndpoint {
  const row = endpointRow(deps, listingId);
  // Every listing gets its endpoint row in the transaction that creates it.
  if (!row) throw new Error(`listing ${listingId} has no endpoint row`);
  return row;
}

/** Safe metadata: the host is derived from the opened URL and nothing else of it leaves. */
export function endpointMetadata(deps: CoreDeps, row: GatewayEndpoint): EndpointMetadata {
  const now = iso(deps.clock.now());
  return {
    listing_id: row.listingId,
    configured: row.privateUrl !== null,
    status: row.status,
    timeout_ms: row.timeoutMs,
    max_request_bytes: row.maxRequestBytes,
    max_response_bytes: row.maxResponseBytes,
    host: hostOf(open(deps, 'private_url', row.listingId, row.privateUrl)),
    has_upstream_auth: row.upstreamAuthValue !== null,
    upstream_auth_header_name: row.upstreamAuthHeaderName,
    secret_prefix: row.secretPrefix,
    secret_rotated_at: row.secretRotatedAt,
    previous_secret_valid_until: previousInGrace(row, now) ? row.previousSecretExpiresAt : null,
    last_test:
      row.lastTestAt === null
        ? null
        : {
            ok: row.lastTestOk ?? false,
            status: row.lastTestStatus,
            latency_ms: row.lastTestLatencyMs,
            json: row.lastTestJson ?? false,
            error_code: row.lastTestErrorCode,
            tested_at: row.lastTestAt,
          },
    updated_at: row.updatedAt,
  };
}

export function getEndpointMetadata(deps: CoreDeps, ownerId: string, idOrSlug: string): EndpointMetadata {
  const listing = requireOwnedListing(deps, ownerId, idOrSlug);
  return endpointMetadata(deps, requireEndpoint(deps, listing.id));
}

function checkHeaderName(name: string): string {
  if (!HEADER_NAME.test(name)) throw ListingErrors.invalidAuthHeader('upstream_auth_header_name is not a valid HTTP header name.');
  if (isReservedHeaderName(name)) {
    throw ListingErrors.invalidAuthHeader('upstream_auth_header_name names a header the gateway sets itself or never forwards.');
  }
  return name;
}

function checkHeaderValue(value: string): string {
  if (!HEADER_VALUE.test(value)) {
    throw ListingErrors.invalidAuthHeader('upstream_auth_header_value must be printable ASCII without line breaks or surrounding spaces.');
  }
  return value;
}

type AuthChange = { kind: 'keep' } | { kind: 'clear' } | { kind: 'set'; name: string; value: string } | { kind: 'value'; value: string };

/** `null` (either field) clears both; a name needs its value; a value alone replaces the current one. */
function authChange(input: UpdateEndpointInput, current: GatewayEndpoint): AuthChange {
  const name = input.upstream_auth_header_name;
  const value = input.upstream_auth_header_value;
  if (name === null || value === null) {
    if ((name !== undefined && name !== null) || (value !== undefined && value !== null)) {
      throw ListingErrors.upstreamAuthIncomplete('null removes the upstream auth header: send both fields null (or only one).');
    }
    return { kind: 'clear' };
  }
  if (name !== undefined) {
    if (value === undefined) throw ListingErrors.upstreamAuthIncomplete('upstream_auth_header_name needs upstream_auth_header_value.');
    return { kind: 'set', name: checkHeaderName(name), value: checkHeaderValue(value) };
  }
  if (value !== undefined) {
    if (current.upstreamAuthHeaderName === null) throw ListingErrors.upstreamAuthIncomplete('upstream_auth_header_value needs upstream_auth_header_name.');
    return { kind: 'value', value: checkHeaderValue(value) };
  }
  return { kind: 'keep' };
}

/** Applies any subset of the endpoint settings; replies with safe metadata and warnings. */
export async function updateEndpoint(deps: TargetDeps & SelfAwareDeps, ownerId: string, idOrSlug: string, input: UpdateEndpointInput) {
  const listing = requireOwnedListing(deps, ownerId, idOrSlug);
  authChange(input, requireEndpoint(deps, listing.id)); // validate before the (slow) URL check
  const warnings = input.private_endpoint_url === undefined ? [] : await vetForSave(deps, input.private_endpoint_url);
  const row = immediate(deps.db.sqlite, () => {
    forgetGatewayTarget(deps, listing.id);
    const current = requireEndpoint(deps, listing.id);
    const now = iso(deps.clock.now());
    const change = authChange(input, current);
    const id = listing.id;
    if (input.private_endpoint_url !== undefined) setPrivateUrl(deps, id, input.private_endpoint_url, now);
    deps.db.db
      .update(listingGatewayEndpoints)
      .set({
        updatedAt: now,
        ...(input.timeout_ms === undefined ? {} : { timeoutMs: input.timeout_ms }),
        ...(input.max_request_bytes === undefined ? {} : { maxRequestBytes: input.max_request_bytes }),
        ...(input.max_response_bytes === undefined ? {} : { maxResponseBytes: input.max_response_bytes }),
        ...(input.status === undefined ? {} : { status: input.status }),
        ...(change.kind === 'clear' ? { upstreamAuthHeaderName: null, upstreamAuthValue: null } : {}),
        ...(change.kind === 'set' ? { upstreamAuthHeaderName: change.name, upstreamAuthValue: seal(deps, 'upstream_auth_value', id, change.value) } : {}),
        ...(change.kind === 'value' ? { upstreamAuthValue: seal(deps, 'upstream_auth_value', id, change.value) } : {}),
      })
      .where(eq(listingGatewayEndpoints.listingId, id))
      .run();
    return requireEndpoint(deps, id);
  });
  return { ...endpointMetadata(deps, row), warnings };
}


type TestResult = { ok: boolean; status: number | null; latencyMs: number | null; json: boolean; errorCode: string | null };

function classify(outcome: UpstreamOutcome): TestResult {
  if (outcome.kind === 'failure') {
    return { ok: false, status: outcome.status ?? null, latencyMs: outcome.latencyMs, json: false, errorCode: UPSTREAM_FAILURE_CODES[outcome.reason] };
  }
  const ok = outcome.status >= 200 && outcome.status < 300;
  const errorCode = ok ? null : outcome.status >= 500 ? SELLER_ANSWER_CODES.serverError : SELLER_ANSWER_CODES.rejected;
  return { ok, status: outcome.status, latencyMs: outcome.latencyMs, json: true, errorCode };
}

/**
 * Sends `{"crochet_test":true}` exactly as the gateway forwards a call (fresh gw_req_ id, all
 * Crochet headers, the owner as buyer, current and in-grace previous secret, upstream auth), and
 * records the outcome as the endpoint's last test and in the test log (score evidence, with the
 * listing's status when the test started). Failures are results, not errors; their codes are
 * generic so nothing about the seller's network shows.
 */
export async function testEndpoint(deps: TargetDeps & SelfAwareDeps, ownerId: string, idOrSlug: string) {
  const listing = requireOwnedListing(deps, ownerId, idOrSlug);
  const row = requireEndpoint(deps, listing.id);
  const url = open(deps, 'private_url', listing.id, row.privateUrl);
  if (url === null) throw ListingErrors.endpointNotConfigured();
  const requestId = prefixedId('gw_req_');
  const testedAt = iso(deps.clock.now());
  const target = getGatewayTarget(deps, listing.id);
  if (!target) throw ListingErrors.endpointNotConfigured();
  const sent = await sendSignedCall({
    target: { ...target.endpoint, privateUrl: url },
    body: TEST_BODY,
    requestId,
    buyerId: ownerId,
    now: new Date(testedAt),
    allowPrivate: deps.config.allow_private_upstreams,
    resolve: deps.resolveHost ?? systemResolver,
    self: deps.instanceAddress,
    maxJsonDepth: deps.config.max_json_depth,
  });
  const result: TestResult = sent.kind === 'refused' ? { ok: false, status: null, latencyMs: null, json: false, errorCode: sent.error.code } : classify(sent);
  immediate(deps.db.sqlite, () => {
    deps.db.db
      .update(listingGatewayEndpoints)
      .set({
        lastTestAt: testedAt,
        lastTestOk: result.ok,
        lastTestStatus: result.status,
        lastTestLatencyMs: result.latencyMs,
        lastTestJson: result.json,
        lastTestErrorCode: result.errorCode,
      })
      .where(eq(listingGatewayEndpoints.listingId, listing.id))
      .run();
    // The status read before the call: pausing the listing while a failing test runs changes nothing.
    recordEndpointTest(deps, {
      id: requestId, listingId: listing.id, ownerProfileId: listing.owner_profile_id, ok: result.ok,
      errorCode: result.errorCode, listingStatus: listing.status, testedAt,
    });
  });
  return {
    ok: result.ok,
    status: result.status,
    latency_ms: result.latencyMs,
    json: result.json,
    ...(result.errorCode === null ? {} : { error_code: result.errorCode }),
    request_id: requestId,
    tested_at: testedAt,
  };
}

/**
 * A new signing secret, returned once. The current one becomes the previous secret and keeps
 * signing `X-Crochet-Signature-Previous` and `-Previous-V2` for `graceSeconds` (0: dropped at once). Only one
 * previous secret is kept: rotating again during a grace period retires the older one.
 */
export function rotateSigningSecret(deps: TargetDeps, ownerId: string, idOrSlug: string, graceSeconds: number) {
  const listing = requireOwnedListing(deps, ownerId, idOrSlug);
  return immediate(deps.db.sqlite, () => {
    forgetGatewayTarget(deps, listing.id);
    const row = requireEndpoint(deps, listing.id);
    const now = deps.clock.now();
    const nowIso = iso(now);
    const secret = newSigningSecret();
    const validUntil = graceSeconds > 0 ? iso(new Date(now.getTime() + graceSeconds * 1000)) : null;
    const current = open(deps, 'signing_secret', listing.id, row.signingSecret);
    deps.db.db
      .update(listingGatewayEndpoints)
      .set({
        signingSecret: seal(deps, 'signing_secret', listing.id, secret),
        secretPrefix: secretPrefixOf(secret),
        secretRotatedAt: nowIso,
        previousSigningSecret: validUntil === null ? null : seal(deps, 'previous_signing_secret', listing.id, current),
        previousSecretExpiresAt: validUntil,
        updatedAt: nowIso,
      })
      .where(eq(listingGatewayEndpoints.listingId, listing.id))
      .run();
    return { signing_secret: secret, secret_prefix: secretPrefixOf(secret), secret_rotated_at: nowIso, previous_secret_valid_until: validUntil };
  });
}
