import { x402Client, wrapFetchWithPayment, type PaymentRequired } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import type { ClientEvmSigner } from '@x402/evm';
import { privateKeyToAccount } from 'viem/accounts';
import { createTestApp, registerAgent, type TestContext } from './app.ts';
import { startAnvil, type AnvilAccount, type AnvilChain } from './anvil.ts';
import { createListing } from './listings.ts';
import { startSellerStub } from './seller-stub.ts';
import { deployTestToken, type TestToken } from './usdc.ts';
import { evmWallet } from './wallets.ts';

/** What a buyer agent's own x402 client does to a PAYMENT-REQUIRED before paying (tests of tampering). */
export type OfferRewrite = (required: PaymentRequired) => void;

/**
 * An instance with x402 on EVM: anvil with an EIP-3009 test USDC (EIP-712 name "USD Coin",
 * version "2"), one EVM route, a relayer key (anvil account 8), a seller stub counting forwards,
 * a buyer and a stranger whose wallets hold USDC, and a 0.25 USD listing. Served over real HTTP.
 */
export async function startX402Market(opts: { env?: Record<string, string> } = {}) {
  const chain: AnvilChain = await startAnvil();
  const [deployer, buyerAccount, strangerAccount, , , , , , relayer, treasury] = chain.accounts as [AnvilAccount, ...AnvilAccount[]];
  const usdc: TestToken = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer, name: 'USD Coin', contract: 'TestUSDC3009' });
  for (const a of [buyerAccount!, strangerAccount!]) await usdc.mint(a.address, 1_000_000_000n);
  const routes = [{ network: `eip155:${chain.chainId}`, rpc_url: chain.rpcUrl, asset: usdc.address, decimals: 6, confirmations: 1, min_amount: '0.01', treasury: treasury!.address }];
  const env = {
    CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
    CROCHET_PAYMENT_ROUTES: JSON.stringify(routes),
    CROCHET_X402_EVM_RELAYER_KEY: relayer!.privateKey,
    CROCHET_X402_SETTLE_WAIT_SECONDS: '3',
    CROCHET_FEE_BPS: '250',
    CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0',
    CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0',
    ...opts.env,
  };
  const t: TestContext = await createTestApp(env, { evmRpcUrl: chain.rpcUrl });
  const base = t.listen();
  let sellerFails = false;
  const stub = startSellerStub({
    now: () => t.clock.now(),
    routes: {
      '/paid': (c) =>
        sellerFails ? Response.json({ error: 'down' }, { status: 500 }) : Response.json({ answer: 42, echo: JSON.parse(new TextDecoder().decode(c.body)) as unknown, verified: c.kit.ok }),
    },
  });
  const seller = await registerAgent(t.call, evmWallet(), 'x402 Seller');
  const buyer = await registerAgent(t.call, evmWallet(buyerAccount!.privateKey), 'x402 Buyer');
  const stranger = await registerAgent(t.call, evmWallet(strangerAccount!.privateKey), 'Stranger');
  const listing = await createListing(t.call, seller.key, { name: 'Paid oracle', pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: stub.url('/paid') });
  stub.setSecrets([listing.gateway_endpoint.signing_secret]);
  const forwards = () => stub.calls.filter((c) => c.path === '/paid').length;

  /**
   * A buyer's stock x402 fetch: `@x402/fetch` with the `exact` EVM client scheme and a viem account,
   * plus the API key, exactly as the README shows. `seen` collects every PAYMENT-SIGNATURE it sends.
   */
  function payingFetch(account: AnvilAccount | ClientEvmSigner, apiKey: string, hooks: { rewrite?: OfferRewrite; seen?: string[]; hold?: boolean } = {}) {
    const client = x402Client.fromConfig({
      schemes: [{ network: 'eip155:*', client: new ExactEvmScheme('privateKey' in account ? privateKeyToAccount(account.privateKey) : account) }],
      // Our test USDC is not one of the client's built-in assets: allow it, with a per-payment cap.
      spendControls: { allowedAssets: [{ network: `eip155:${chain.chainId}`, asset: usdc.address, maxAmountPerPayment: '1000000' }] },
    });
    const transport: typeof fetch = Object.assign(
      async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        const signature = request.headers.get('PAYMENT-SIGNATURE');
        if (signature) hooks.seen?.push(signature);
        // Captured, never sent: the test presents it itself (replays, races, other processes).
        if (signature && hooks.hold) return new Response('{"held":true}', { status: 599, headers: { 'content-type': 'application/json' } });
        const response = await fetch(request);
        const required = response.headers.get('PAYMENT-REQUIRED');
        if (!hooks.rewrite || response.status !== 402 || !required) return response;
        // The buyer's side altering the offer before it signs (a tampering client).
        const offer = JSON.parse(Buffer.from(required, 'base64').toString('utf8')) as PaymentRequired;
        hooks.rewrite(offer);
        const headers = new Headers(response.headers);
        headers.set('PAYMENT-REQUIRED', Buffer.from(JSON.stringify(offer)).toString('base64'));
        return new Response(await response.arrayBuffer(), { status: response.status, headers });
      },
      { preconnect: fetch.preconnect },
    );
    const pay = wrapFetchWithPayment(transport, client);
    return (listingId: string, body: unknown) =>
      pay(`${base}/api/v1/gateway/${listingId}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify(body) });
  }

  /** A PAYMENT-SIGNATURE the stock client signed for `body`, not yet presented. */
  async function signedPayment(account: AnvilAccount | ClientEvmSigner, apiKey: string, body: unknown, rewrite?: OfferRewrite): Promise<string> {
    const seen: string[] = [];
    await payingFetch(account, apiKey, { seen, hold: true, rewrite })(listing.id, body);
    if (seen.length !== 1) throw new Error('the client did not sign a payment');
    return seen[0]!;
  }

  return {
    t,
    base,
    signedPayment,
    chain,
    usdc,
    stub,
    env,
    seller,
    buyer: { ...buyer, account: buyerAccount! },
    stranger: { ...stranger, account: strangerAccount! },
    relayer: relayer!,
    treasury: treasury!,
    listing,
    forwards,
    payingFetch,
    /** While true the seller answers 500 (a seller failure: nothing credited, the payment stays usable). */
    setSellerFails(fails: boolean) {
      sellerFails = fails;
    },
    /** Sends a captured PAYMENT-SIGNATURE again with `body`, as any HTTP client would. */
    replay(signature: string, body: unknown, apiKey: string, url = base) {
      return fetch(`${url}/api/v1/gateway/${listing.id}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'PAYMENT-SIGNATURE': signature }, body: JSON.stringify(body) });
    },
    async stop() {
      stub.stop();
      await t.close();
      await chain.stop();
    },
  };
}

export type X402Market = Awaited<ReturnType<typeof startX402Market>>;
