import { AppError } from '../../app-error.ts';

/** One error a route can answer with: its HTTP status and stable code. */
export type ErrorCode = { status: number; code: string };

type Factory = (...args: never[]) => AppError;
type Registry = Readonly<Record<string, Factory>>;

const CODE = /^[A-Z][A-Z0-9_]*$/;
// Factories take messages, limits, lists or objects; one of these argument sets builds each of them.
const PROBES: unknown[][] = [[], ['probe', 'probe', 'probe'], [[], [], []], [0, 0, 0], [{}, {}, {}]];

/** The status and code a factory builds, found by calling it with placeholder arguments. */
export function errorOf(factory: Factory, name = factory.name): ErrorCode {
  for (const args of PROBES) {
    let error: unknown;
    try {
      error = (factory as (...a: unknown[]) => unknown)(...args);
    } catch {
      continue;
    }
    if (error instanceof AppError && CODE.test(error.code)) return { status: error.status, code: error.code };
  }
  // A factory whose code comes from its arguments cannot be probed: name its codes (errorsOf `codes`).
  throw new Error(`openapi: cannot tell which code ${name || 'an error factory'} builds; list its codes explicitly`);
}

/**
 * Every code of a module's error registry (its `errors.ts`), so codes added there show up in the
 * document without anyone listing them again. `except` leaves out factories the route never
 * reaches; `codes` names the codes of a factory that takes its code as an argument.
 *
 * @example errorsOf(PaymentErrors, { except: ['refundNotFound'], codes: { rejected: { status: 402, codes: PAYMENT_REJECT_CODES } } })
 */
export function errorsOf<R extends Registry>(
  registry: R,
  options: { except?: (keyof R)[]; only?: (keyof R)[]; codes?: Partial<Record<keyof R, { status: number; codes: readonly string[] }>> } = {},
): ErrorCode[] {
  const out: ErrorCode[] = [];
  for (const [name, factory] of Object.entries(registry)) {
    if (options.except?.includes(name) || (options.only && !options.only.includes(name))) continue;
    const named = options.codes?.[name as keyof R];
    if (named) out.push(...named.codes.map((code) => ({ status: named.status, code })));
    else out.push(errorOf(factory, name));
  }
  return out;
}

/** `{ "404": ["NOT_FOUND"], … }`: unique codes grouped by status, both sorted. */
export function groupByStatus(errors: readonly ErrorCode[]): Record<string, string[]> {
  const byStatus = new Map<number, Set<string>>();
  for (const { status, code } of errors) {
    const set = byStatus.get(status) ?? new Set<string>();
    set.add(code);
    byStatus.set(status, set);
  }
  return Object.fromEntries([...byStatus.entries()].sort(([a], [b]) => a - b).map(([status, codes]) => [String(status), [...codes].sort()]));
}
