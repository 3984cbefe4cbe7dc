/**
 * The endpoint test log (`endpoint_tests`), read by the trust module as score evidence. Same
 * cursor contract as the gateway history (`src/modules/gateway/outcomes.ts`): a rowid position,
 * checked against the row's id because `VACUUM` may renumber an implicit rowid.
 */
import type { CoreDeps } from '../../shared/deps.ts';
import { endpointTests, type ListingStatus } from './schema.ts';

/** One endpoint test as score ingestion reads it; `seq` is its position in the log (rowid). */
export type EndpointTestRecord = {
  seq: number;
  id: string;
  listingId: string;
  ownerProfileId: string;
  ok: boolean;
  errorCode: string | null;
  listingStatus: ListingStatus;
  testedAt: string;
};

/** Appends one test result; call inside the transaction that stores the endpoint's last test. */
export function recordEndpointTest(deps: CoreDeps, test: Omit<EndpointTestRecord, 'seq'>): void {
  deps.db.db.insert(endpointTests).values(test).run();
}

/** Endpoint tests recorded after log position `afterSeq`, oldest first, at most `limit`. */
export function endpointTestsAfter(deps: CoreDeps, afterSeq: number, limit: number): EndpointTestRecord[] {
  // rowid order is insertion order: a test that took its whole timeout is never behind the cursor.
  return deps.db.sqlite
    .query<Omit<EndpointTestRecord, 'ok'> & { ok: number }, [number, number]>(
      `SELECT rowid AS seq, id, listing_id AS listingId, owner_profile_id AS ownerProfileId, ok, error_code AS errorCode,
         listing_status AS listingStatus, tested_at AS testedAt
       FROM endpoint_tests WHERE rowid > ? ORDER BY rowid LIMIT ?`,
    )
    .all(afterSeq, limit)
    .map((row) => ({ ...row, ok: row.ok === 1 }));
}

/** Current log position of a test, to check a saved cursor; null when the row is gone. */
export function endpointTestPositionOf(deps: CoreDeps, testId: string): number | null {
  return deps.db.sqlite.query<{ seq: number }, [string]>('SELECT rowid AS seq FROM endpoint_tests WHERE id = ?').get(testId)?.seq ?? null;
}
