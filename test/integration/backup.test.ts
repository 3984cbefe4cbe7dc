import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { evmWallet } from '../support/wallets.ts';

// `crochet backup FILE` copies the live database consistently while the server holds it open.
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  t.listen();
});
afterAll(() => t.close());

const cli = async (...args: string[]) => {
  const proc = Bun.spawn(['bun', 'src/main.ts', ...args, '--data-dir', t.dir], { stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text(), await proc.exited];
  return { out, err, code };
};

test('a backup taken while the server runs holds every row and a sound ledger; sealed values stay sealed', async () => {
  const seller = await registerAgent(t.call, evmWallet());
  const listing = await createListing(t.call, seller.key, { private_endpoint_url: 'http://127.0.0.1:9/secret-path' });
  const file = join(t.dir, 'backup-1.db');
  const res = await cli('backup', file);
  expect(res.code).toBe(0);
  expect(res.out).toContain('integrity ok');
  const copy = new Database(file, { readonly: true });
  try {
    expect(copy.query('SELECT id FROM listings WHERE id = ?').get(listing.id)).toEqual({ id: listing.id });
    expect(copy.query('SELECT count(*) AS n FROM profiles').get()).toEqual({ n: 1 });
    expect(verifyLedger(copy).ok).toBe(true);
    const sealed = copy.query<{ private_url: string }, [string]>('SELECT private_url FROM listing_gateway_endpoints WHERE listing_id = ?').get(listing.id);
    expect(sealed?.private_url).toStartWith('v1$');
  } finally {
    copy.close();
  }
  expect(await Bun.file(file).text()).not.toContain('secret-path');
});

test('refuses to overwrite an existing file, and needs a file name', async () => {
  const file = join(t.dir, 'backup-2.db');
  expect((await cli('backup', file)).code).toBe(0);
  const again = await cli('backup', file);
  expect(again.code).toBe(1);
  expect(again.err).toContain('exists already');
  expect((await cli('backup')).code).toBe(2);
});
