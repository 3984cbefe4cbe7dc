import { Elysia } from 'elysia';
import type { CoreDeps } from '../../shared/deps.ts';
import type { authPlugin } from '../../shared/http/auth.ts';
import { ok, okSchema, paged, pagedSchema } from '../../shared/http/envelope.ts';
import { op } from '../../shared/http/openapi/operation.ts';
import * as Ledger from './service.ts';
import * as model from './model.ts';

export type LedgerModuleDeps = CoreDeps & { auth: ReturnType<typeof authPlugin> };

/** The caller's ledger entries and balances. */
export function ledgerModule(deps: LedgerModuleDeps) {
  return new Elysia({ prefix: '/api/v1', tags: ['ledger'] })
    .use(deps.auth)
    .get(
      '/ledger',
      ({ caller, query }) => {
        const { entries, total } = Ledger.listEntries(deps, caller.profileId, query);
        return paged(entries, query.page, query.limit, total);
      },
      {
        auth: 'agent',
        query: model.listQuery,
        response: pagedSchema(model.entrySchema),
        detail: op('listLedgerEntries', 'Your ledger entries (buyer, seller and refund accounts), newest first'),
      },
    )
    .get('/ledger/balance', ({ caller }) => ok(Ledger.balances(deps, caller.profileId)), {
      auth: 'agent',
      response: okSchema(model.balanceSchema),
      detail: op('getLedgerBalance', 'Per-account totals, and buyer/seller summaries, for the caller'),
    });
}
