import { address } from '@solana/kit';
import { createTestApp, proveWallet, registerAgent, type TestContext } from './app.ts';
import { startAnvil, type AnvilChain } from './anvil.ts';
import { createListing } from './listings.ts';
import { startSellerStub } from './seller-stub.ts';
import { startSolanaRpc, type SolanaTestChain } from './solana-rpc.ts';
import { deployTestToken, type TestToken } from './usdc.ts';
import { evmWallet, solanaWallet } from './wallets.ts';

/**
 * A running instance with real local chains: anvil + TestUSDC and LiteSVM behind JSON-RPC, both
 * configured as payment routes; a seller (EVM payout wallet) with a seller stub; an EVM buyer whose
 * wallet is a funded anvil account; the fee at 250 bps.
 */
export async function startPaidMarket(
  opts: {
    evmMinAmount?: string;
    confirmations?: number;
    env?: Record<string, string>;
    /** The Solana route's token (default: the chain's USDC-like mint), e.g. a transfer-fee mint. */
    solanaAsset?: (sol: SolanaTestChain) => Promise<string>;
    /** The Solana chain's genesis hash (default devnet's: stock x402 clients know only public clusters). */
    solanaGenesisHash?: string;
  } = {},
) {
  const chain: AnvilChain = await startAnvil();
  const sol: SolanaTestChain = await startSolanaRpc(opts.solanaGenesisHash ? { genesisHash: opts.solanaGenesisHash } : {});
  const [deployer, buyerAccount, strangerAccount, , , , , , , treasuryAccount] = chain.accounts as [typeof chain.accounts[0], ...typeof chain.accounts];
  const usdc: TestToken = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer });
  const wrongToken: TestToken = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer, name: 'Wrong Coin', symbol: 'WRNG' });
  for (const a of [buyerAccount, strangerAccount]) {
    await usdc.mint(a!.address, 1_000_000_000n);
    await wrongToken.mint(a!.address, 1_000_000_000n);
  }
  const solTreasury = solanaWallet();
  const routes = [
    { network: `eip155:${chain.chainId}`, rpc_url: chain.rpcUrl, asset: usdc.address, decimals: 6, confirmations: opts.confirmations ?? 1, min_amount: opts.evmMinAmount ?? '0.1', treasury: treasuryAccount!.address },
    { network: sol.network, rpc_url: sol.rpcUrl, asset: opts.solanaAsset ? await opts.solanaAsset(sol) : sol.mint, decimals: 6, commitment: 'finalized', min_amount: '0', treasury: solTreasury.address },
  ];
  const t: TestContext = await createTestApp({
    CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
    CROCHET_PAYMENT_ROUTES: JSON.stringify(routes),
    CROCHET_FEE_BPS: '250',
    CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0',
    CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0',
    ...opts.env,
  });
  t.listen();
  let sellerMode: 'ok' | 'fail' | 'slow' = 'ok';
  const stub = startSellerStub({
    now: () => t.clock.now(),
    routes: {
      '/paid': async (c) => {
        if (sellerMode === 'fail') return Response.json({ error: 'down' }, { status: 500 });
        if (sellerMode === 'slow') await Bun.sleep(400);
        return Response.json({ answer: 42, echo: new TextDecoder().decode(c.body), verified: c.kit.ok });
      },
    },
  });
  const seller = await registerAgent(t.call, evmWallet(), 'Paid Seller');
  const buyer = await registerAgent(t.call, evmWallet(buyerAccount!.privateKey), 'Paid Buyer');
  const stranger = await registerAgent(t.call, evmWallet(strangerAccount!.privateKey), 'Stranger');
  const listing = await createListing(t.call, seller.key, { name: 'Paid oracle', pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: stub.url('/paid') });
  const cheap = await createListing(t.call, seller.key, { name: 'Cheap oracle', pricing_model: 'per_call', pricing_amount: '0.05', private_endpoint_url: stub.url('/paid') });
  stub.setSecrets([listing.gateway_endpoint.signing_secret, cheap.gateway_endpoint.signing_secret]);

  return {
    t,
    chain,
    sol,
    usdc,
    wrongToken,
    stub,
    seller,
    buyer: { ...buyer, account: buyerAccount! },
    stranger: { ...stranger, account: strangerAccount! },
    treasury: { evm: treasuryAccount!.address, solana: address(solTreasury.address) },
    listing,
    cheap,
    setSellerMode(mode: 'ok' | 'fail' | 'slow') {
      sellerMode = mode;
    },
    /** Calls the gateway as `key` with optional relay/payment/origin headers. */
    call(listingId: string, body: string, key: string, headers: { relay?: string; tx?: string; origin?: string } = {}) {
      return t.call('POST', `/api/v1/gateway/${listingId}`, {
        rawBody: body,
        key,
        headers: {
          'content-type': 'application/json',
          ...(headers.relay ? { 'x-crochet-relay-request-id': headers.relay } : {}),
          ...(headers.tx ? { 'x-crochet-payment-tx': headers.tx } : {}),
          ...(headers.origin ? { 'x-crochet-origin-currency': headers.origin } : {}),
        },
      });
    },
    /** Links a fresh Solana wallet to a profile (for the route-minimum hint). */
    async linkSolana(agent: { key: string; wallet: Parameters<typeof proveWallet>[1] }) {
      const w = solanaWallet();
      const a = await proveWallet(t.call, agent.wallet, 'link_wallet', { key: agent.key });
      const b = await proveWallet(t.call, w, 'link_wallet', { key: agent.key });
      const strip = ({ pow_nonce: _p, ...rest }: typeof a.proof) => rest;
      await t.call('POST', '/api/v1/me/wallets', { key: agent.key, body: { existing: strip(a.proof), new: strip(b.proof) } });
      return w;
    },
    async stop() {
      stub.stop();
      await t.close();
      await chain.stop();
      await sol.stop();
    },
  };
}

export type PaidMarket = Awaited<ReturnType<typeof startPaidMarket>>;
