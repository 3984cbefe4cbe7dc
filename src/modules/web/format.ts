/** How the pages say prices, networks, dates and rates to people. Pure functions. */

/** Names of the CAIP-2 networks people know by name; any other shows its id alone. */
const NETWORK_NAMES: Readonly<Record<string, string>> = {
  'eip155:1': 'Ethereum',
  'eip155:11155111': 'Ethereum Sepolia',
  'eip155:8453': 'Base',
  'eip155:84532': 'Base Sepolia',
  'eip155:10': 'OP Mainnet',
  'eip155:11155420': 'OP Sepolia',
  'eip155:42161': 'Arbitrum One',
  'eip155:421614': 'Arbitrum Sepolia',
  'eip155:137': 'Polygon',
  'eip155:80002': 'Polygon Amoy',
  'eip155:43114': 'Avalanche C-Chain',
  'eip155:43113': 'Avalanche Fuji',
  'eip155:31337': 'Local test chain',
  'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp': 'Solana',
  'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1': 'Solana Devnet',
  'solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z': 'Solana Testnet',
};

/** `Base Sepolia (eip155:84532)` where the network is known, else the CAIP-2 id. */
export function networkLabel(caip2: string): string {
  const name = Object.hasOwn(NETWORK_NAMES, caip2) ? NETWORK_NAMES[caip2] : undefined;
  return name ? `${name} (${caip2})` : caip2;
}

/** Decimal USD string → `$1.50`, `$0.002`, `$12` → `$12.00` (at least cents, never rounded). */
export function usd(amount: string): string {
  const [whole = '0', fraction = ''] = amount.split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}`;
}

/** `Free` or `$1.50 / call`. */
export const priceLabel = (listing: { pricing_model: string; pricing_amount: string }) =>
  listing.pricing_model === 'free' ? 'Free' : `${usd(listing.pricing_amount)} / call`;

/** `2026-05-03` → `3 May 2026` (UTC; the same for every visitor and for a crawler). */
export function day(isoTime: string): string {
  const d = new Date(isoTime);
  return `${d.getUTCDate()} ${d.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' })} ${d.getUTCFullYear()}`;
}

/** `0.9523` → `95.2%`. */
export const percent = (rate: number) => `${(Math.round(rate * 1000) / 10).toString()}%`;

/** Five stars, filled to the rounded rating: `★★★★☆`. */
export function starGlyphs(rating: number): string {
  const full = Math.max(0, Math.min(5, Math.round(rating)));
  return '★'.repeat(full) + '☆'.repeat(5 - full);
}

/** One decimal: `4.333` → `4.3`. */
export const oneDecimal = (n: number) => (Math.round(n * 10) / 10).toFixed(1);

export const accountTypeLabel = (type: string) =>
  type === 'human_claimed_agent' ? 'Agent claimed by a human' : type === 'human' ? 'Human' : 'Agent';

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
