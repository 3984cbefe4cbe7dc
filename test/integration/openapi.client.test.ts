import { afterAll, beforeAll, expect, test } from 'bun:test';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { solvePow } from '../../src/shared/pow.ts';
import { createListing } from '../support/listings.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { evmWallet } from '../support/wallets.ts';

// A client generated from /api/openapi.json with openapi-typescript + openapi-fetch type-checks
// under `tsc --strict` and does the whole buyer journey against a live instance and a local chain.
allowSlowSetup();

const REPO = join(import.meta.dir, '../..');
const DIR = join(REPO, 'test/.cache', `openapi-client-${process.pid}`);
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
let m: PaidMarket;
let baseUrl: string;

const tsconfig = (files: string[]) =>
  JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: [], skipLibCheck: true },
    files,
  });

async function tsc(project: string) {
  const proc = Bun.spawn([TSC, '-p', project], { cwd: DIR, stdout: 'pipe', stderr: 'pipe' });
  const [out, err] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text()];
  return { code: await proc.exited, output: out + err };
}

// The shape of the fixture's runFlow, restated: the fixture itself compiles only next to the generated types.
type RunFlow = (deps: {
  baseUrl: string;
  wallet: { address: string; sign(message: string): Promise<string> };
  solvePow(challenge: string, difficulty: number): string;
  pay(route: { pay_to: string; amount_atomic: string }): Promise<string>;
  search: string;
}) => Promise<{
  apiKey: string;
  freeReply: unknown;
  first: { code: string; nextAction?: string; payment: { relay_request_id: string; amount_atomic: string } };
  paidReply: unknown;
  requestId: string | null;
  entries: { relay_request_id: string | null; amount_micro_usd: number }[];
  total: number;
}>;

/**
 * openapi-typescript drives the TypeScript 5 compiler API, which TypeScript 7 (the repo's) no longer
 * has. A copy of the generator in the work folder resolves `typescript` to the typescript5 alias
 * there; its other dependencies resolve from the repo as usual.
 */
async function loadOpenapiTypescript(): Promise<typeof import('openapi-typescript')> {
  const modules = join(DIR, 'node_modules');
  mkdirSync(modules, { recursive: true });
  cpSync(join(REPO, 'node_modules/openapi-typescript'), join(modules, 'openapi-typescript'), { recursive: true, dereference: true });
  symlinkSync(join(REPO, 'node_modules/typescript5'), join(modules, 'typescript'), 'dir');
  return import(join(modules, 'openapi-typescript/dist/index.mjs'));
}

beforeAll(async () => {
  m = await startPaidMarket({ evmMinAmount: '0.01' });
  baseUrl = `http://127.0.0.1:${m.t.app.server!.port}`;
  const free = await createListing(m.t.call, m.seller.key, { name: 'Free oracle', pricing_model: 'free', pricing_amount: 0, private_endpoint_url: m.stub.url('/paid') });
  m.stub.setSecrets([m.listing.gateway_endpoint.signing_secret, m.cheap.gateway_endpoint.signing_secret, free.gateway_endpoint.signing_secret]);

  // Generate the client types from the live document, next to the buyer written against them.
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const doc = await (await fetch(`${baseUrl}/api/openapi.json`)).json();
  const { default: openapiTS, astToString } = await loadOpenapiTypescript();
  writeFileSync(join(DIR, 'schema.d.ts'), astToString(await openapiTS(doc)));
  cpSync(join(REPO, 'test/fixtures/openapi-client/flow.ts'), join(DIR, 'flow.ts'));
  writeFileSync(join(DIR, 'tsconfig.json'), tsconfig(['flow.ts']));
});
afterAll(async () => {
  await m?.stop();
  if (!process.env.KEEP_OPENAPI_CLIENT) rmSync(DIR, { recursive: true, force: true });
});

test('the generated client type-checks under tsc --strict, and misuse of it does not', async () => {
  const ok = await tsc(join(DIR, 'tsconfig.json'));
  expect(ok.output).toBe('');
  expect(ok.code).toBe(0);
  // The types are real, not `any`: a registration without its proof and a gateway call without a body are refused.
  writeFileSync(
    join(DIR, 'misuse.ts'),
    [
      "import createClient from 'openapi-fetch';",
      "import type { paths } from './schema';",
      'const client = createClient<paths>({});',
      "export const a = client.POST('/api/v1/register', { body: { wallet_address: '0x1' } });",
      "export const b = client.POST('/api/v1/gateway/{listingId}', { params: { path: { listingId: 'x' } } });",
    ].join('\n'),
  );
  writeFileSync(join(DIR, 'tsconfig.misuse.json'), tsconfig(['misuse.ts']));
  const bad = await tsc(join(DIR, 'tsconfig.misuse.json'));
  expect(bad.code).not.toBe(0);
  expect(bad.output).toContain('misuse.ts(4,');
  expect(bad.output).toContain('misuse.ts(5,');
});

test('the generated client registers, lists, makes a free call, pays for a paid call from the typed 402, and reads the ledger', async () => {
  const account = m.chain.accounts[3]!;
  await m.usdc.mint(account.address, 1_000_000_000n);
  const { runFlow } = (await import(join(DIR, 'flow.ts'))) as { runFlow: RunFlow };
  const result = await runFlow({
    baseUrl,
    wallet: evmWallet(account.privateKey),
    solvePow,
    pay: (route) => m.usdc.transfer(account, route.pay_to as Hex, BigInt(route.amount_atomic)),
    search: 'oracle',
  });
  expect(result.apiKey).toMatch(/^am_k_/);
  expect(result.freeReply).toEqual({ answer: 42, echo: JSON.stringify({ question: 'free?' }), verified: true });
  expect(result.first.code).toBe('PAYMENT_REQUIRED');
  expect(result.first.nextAction).toBe('complete_payment_and_retry');
  expect(result.first.payment.relay_request_id).toMatch(/^rly_/);
  expect(result.paidReply).toEqual({ answer: 42, echo: JSON.stringify({ question: 'paid?' }), verified: true });
  expect(result.requestId).toMatch(/^gw_req_/);
  expect(result.total).toBeGreaterThan(0);
  expect(result.entries.every((e) => e.relay_request_id === result.first.payment.relay_request_id)).toBe(true);
  // The buyer sees its own side: the price paid, as a debit.
  expect(result.entries.map((e) => e.amount_micro_usd)).toContain(-Number(result.first.payment.amount_atomic));
});
