/**
 * Every database column that holds vault-sealed values. Master-key rotation re-encrypts exactly
 * these, so a module that seals a new column must list it here in the same change (the payments
 * module adds its paid-response column). The AAD of each value is `{ table, column, rowId }` with
 * these very names, which is what lets rotation reopen values without knowing the owning module.
 */
export type SealedTable = {
  table: string;
  /** Primary key column; its value is the AAD row id. */
  idColumn: string;
  columns: readonly string[];
};

export const SEALED_COLUMNS: readonly SealedTable[] = [
  {
    table: 'listing_gateway_endpoints',
    idColumn: 'listing_id',
    columns: ['private_url', 'upstream_auth_value', 'signing_secret', 'previous_signing_secret'],
  },
  { table: 'paid_responses', idColumn: 'gateway_request_id', columns: ['body_sealed'] },
];
