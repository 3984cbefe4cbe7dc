// Money is integer micro-USD everywhere (SPEC §1). These helpers are the only bridge between that
// and the decimal USD the API shows (`amount`, `pricing_amount`, `min_amount`); no float ever
// takes part in the arithmetic.

/** Micro-USD per USD (6 decimals, like USDC). */
export const MICRO_PER_USD = 1_000_000;
const MICRO_PER_USD_BIG = 1_000_000n;
const USD_DECIMALS = 6;

/** Thrown by `parseUsdToMicro`; the message is safe to show to the caller. */
export class MoneyParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoneyParseError';
  }
}

/**
 * Micro-USD → decimal USD string, in one canonical form: no exponent, no trailing fractional
 * zeros and no trailing dot, a leading `-` for negatives (`250000` → `"0.25"`,
 * `-6250` → `"-0.00625"`, `1000000` → `"1"`, `0` → `"0"`). The shortest exact form, so the same
 * amount always renders the same way and round-trips through `parseUsdToMicro` (for n ≥ 0).
 */
export function microToDecimalString(micro: number | bigint): string {
  if (typeof micro === 'number' && !Number.isSafeInteger(micro)) throw new RangeError(`not an integer micro-USD amount: ${micro}`);
  const value = BigInt(micro);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / MICRO_PER_USD_BIG;
  const fraction = (abs % MICRO_PER_USD_BIG).toString().padStart(USD_DECIMALS, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

const DECIMAL_USD = /^(\d+)(?:\.(\d+))?$/;

/**
 * Decimal USD (a JSON number or a decimal string, `0.01` / `"0.01"`) → integer micro-USD, exactly.
 * Accepts only plain non-negative decimals with at most 6 fractional digits (`"1"`, `"0.25"`,
 * `"10.000001"`); throws `MoneyParseError` on negatives, more decimals, exponents, blanks,
 * whitespace, or amounts beyond the safe-integer range. A number is read through its shortest
 * string form (`0.1` → `"0.1"` → 100000), so float noise never enters.
 */
export function parseUsdToMicro(input: string | number): number {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new MoneyParseError('amount must be a finite number');
    text = String(input);
  } else if (typeof input === 'string') {
    text = input;
  } else {
    throw new MoneyParseError('amount must be a decimal number or string');
  }
  if (text.startsWith('-')) throw new MoneyParseError('amount must not be negative');
  const match = DECIMAL_USD.exec(text);
  if (!match) throw new MoneyParseError(`amount must be a plain decimal USD value like "0.01" (got ${JSON.stringify(text.slice(0, 40))})`);
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > USD_DECIMALS) throw new MoneyParseError(`amount has more than ${USD_DECIMALS} decimal places`);
  const micro = BigInt(whole) * MICRO_PER_USD_BIG + BigInt(fraction.padEnd(USD_DECIMALS, '0'));
  if (micro > BigInt(Number.MAX_SAFE_INTEGER)) throw new MoneyParseError('amount is too large');
  return Number(micro);
}
