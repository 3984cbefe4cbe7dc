// A clean stop loses no history row: not even that of a call whose buyer hung up while the seller
// was still answering (Bun's server stop waits for open connections only).
import { Database } from 'bun:sqlite';
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { DATABASE_FILE, startServer } from '../../src/server.ts';
import { memoryLogger } from '../../src/shared/logger.ts';
import { httpCaller, registerAgent, TEST_ENV } from '../support/app.ts';
import { freePort } from '../support/binary.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

const dir = mkdtempSync(join(tmpdir(), 'crochet-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a call whose buyer left is finished and recorded before the database closes', async () => {
  const stub = startSellerStub({ routes: { '/slow': async () => (await Bun.sleep(1_000), Response.json({ late: true })) } });
  const logger = memoryLogger('info');
  const server = startServer(
    loadConfig({ env: { ...TEST_ENV, CROCHET_DATA_DIR: dir, CROCHET_HOST: '127.0.0.1', CROCHET_PORT: String(freePort()), CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' } }),
    logger,
  );
  const base = `http://127.0.0.1:${server.port}`;
  const call = httpCaller(base);
  try {
    const seller = await registerAgent(call, evmWallet(), 'Slow Seller');
    const buyer = await registerAgent(call, solanaWallet(), 'Impatient Buyer');
    const listing = await createListing(call, seller.key, { private_endpoint_url: stub.url('/slow') });
    stub.setSecrets([listing.gateway_endpoint.signing_secret]);

    const hangUp = new AbortController();
    const buyerCall = fetch(`${base}/api/v1/gateway/${listing.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${buyer.key}`, 'content-type': 'application/json' },
      body: '{"q":1}',
      signal: hangUp.signal,
    }).catch((error: unknown) => error);
    while (stub.calls.length === 0) await Bun.sleep(10);
    hangUp.abort();
    expect(await buyerCall).toBeInstanceOf(Error);

    await server.stop();
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    try {
      const rows = db.query('SELECT status, http_status, seller_status, request_bytes FROM gateway_requests WHERE listing_id = ?').all(listing.id);
      expect(rows).toEqual([{ status: 'completed', http_status: 200, seller_status: 200, request_bytes: 7 }]);
    } finally {
      db.close();
    }
    expect(logger.lines.some((l) => l.includes('gateway calls still running'))).toBe(false);
  } finally {
    await server.stop();
    stub.stop();
  }
});
