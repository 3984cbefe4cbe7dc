/**
 * The listing's gateway endpoint at rest: every secret column goes through the vault with AAD
 * `listing_gateway_endpoints / <column> / <listing id>`, so a sealed value copied to another
 * listing or column does not open. Plaintext exists only in memory, for the call being made.
 */
import { eq } from 'drizzle-orm';
import type { CoreDeps } from '../../shared/deps.ts';
import { randomToken } from '../../shared/ids.ts';
import { systemResolver, vetUpstreamUrl } from '../../shared/upstream/guard.ts';
import type { InstanceAddress } from '../../shared/upstream/self-address.ts';
import { listingGatewayEndpoints, type GatewayEndpoint } from './schema.ts';

const TABLE = 'listing_gateway_endpoints';
export type SealedColumn = 'private_url' | 'upstream_auth_value' | 'signing_secret' | 'previous_signing_secret';

const SECRET_PREFIX = 'whsec_';
const SHOWN_PREFIX_CHARS = SECRET_PREFIX.length + 6;

/** `whsec_` + 32 random bytes, base64url. */
export const newSigningSecret = () => SECRET_PREFIX + randomToken(32);
/** The part of a secret safe to show again (like an API key prefix): 36 of its 256 bits. */
export const secretPrefixOf = (secret: string) => secret.slice(0, SHOWN_PREFIX_CHARS);

export function seal(deps: CoreDeps, column: SealedColumn, listingId: string, plaintext: string): string {
  return deps.vault.seal(plaintext, { table: TABLE, column, rowId: listingId });
}

export function open(deps: CoreDeps, column: SealedColumn, listingId: string, sealed: string): string;
export function open(deps: CoreDeps, column: SealedColumn, listingId: string, sealed: string | null): string | null;
export function open(deps: CoreDeps, column: SealedColumn, listingId: string, sealed: string | null): string | null {
  return sealed === null ? null : deps.vault.open(sealed, { table: TABLE, column, rowId: listingId });
}

export function endpointRow(deps: CoreDeps, listingId: string): GatewayEndpoint | undefined {
  return deps.db.db.select().from(listingGatewayEndpoints).where(eq(listingGatewayEndpoints.listingId, listingId)).get();
}

/** Creates the endpoint of a new listing; returns its first signing secret. Call inside the creating transaction. */
export function insertEndpoint(deps: CoreDeps, listingId: string, privateUrl: string | null, now: string): string {
  const secret = newSigningSecret();
  deps.db.db
    .insert(listingGatewayEndpoints)
    .values({
      listingId,
      privateUrl: privateUrl === null ? null : seal(deps, 'private_url', listingId, privateUrl),
      signingSecret: seal(deps, 'signing_secret', listingId, secret),
      secretPrefix: secretPrefixOf(secret),
      createdAt: now,
      updatedAt: now,
    })
    .run();
  return secret;
}

/** Replaces the private URL (already vetted). Call inside a transaction. */
export function setPrivateUrl(deps: CoreDeps, listingId: string, url: string, now: string): void {
  deps.db.db
    .update(listingGatewayEndpoints)
    .set({ privateUrl: seal(deps, 'private_url', listingId, url), updatedAt: now })
    .where(eq(listingGatewayEndpoints.listingId, listingId))
    .run();
}

/** Save-time SSRF and loop check (SPEC §3, §4 "No loops"); returns warnings (a name that does not resolve yet), throws 422 when unsafe. */
/** What a save-time check needs: this instance's own addresses (the app's runtime keeps one). */
export type SelfAwareDeps = CoreDeps & { instanceAddress: InstanceAddress };

export async function vetForSave(deps: SelfAwareDeps, url: string): Promise<string[]> {
  const { warnings } = await vetUpstreamUrl(url, {
    allowPrivate: deps.config.allow_private_upstreams,
    resolve: deps.resolveHost ?? systemResolver,
    phase: 'save',
    self: deps.instanceAddress,
  });
  return warnings;
}

/** Host (with a non-default port) of a URL, for the owner's metadata; never the path or query. */
export function hostOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/** True while the rotated-out secret still signs the second header. */
export const previousInGrace = (row: GatewayEndpoint, nowIso: string) =>
  row.previousSigningSecret !== null && row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > nowIso;
