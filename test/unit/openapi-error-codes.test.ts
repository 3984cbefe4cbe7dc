import { expect, test } from 'bun:test';
import { AppError, recover } from '../../src/shared/app-error.ts';
import { errorOf, errorsOf, groupByStatus } from '../../src/shared/http/openapi/error-codes.ts';
import { CommonErrors } from '../../src/shared/errors.ts';
import { PaymentErrors } from '../../src/modules/payments/errors.ts';

// Error codes in the OpenAPI document come from the modules' registries: a code added there is documented without a second list.

test('every factory of a registry is found, whatever arguments it takes', () => {
  const registry = {
    plain: () => new AppError(404, 'THING_NOT_FOUND', 'No thing.'),
    withMessage: (message: string) => new AppError(400, 'BAD_THING', message),
    withList: (on: string, issues: { path: string }[]) => new AppError(400, 'BAD_LIST', `${on}: ${issues.map((i) => i.path).join()}`),
    withNumber: (seconds: number) => new AppError(429, 'SLOW_DOWN', 'wait', { recovery: recover.retryLater(`wait ${seconds.toFixed(0)}`, seconds) }),
  };
  expect(errorsOf(registry)).toEqual([
    { status: 404, code: 'THING_NOT_FOUND' },
    { status: 400, code: 'BAD_THING' },
    { status: 400, code: 'BAD_LIST' },
    { status: 429, code: 'SLOW_DOWN' },
  ]);
  expect(errorsOf(registry, { only: ['plain'] })).toEqual([{ status: 404, code: 'THING_NOT_FOUND' }]);
  expect(errorsOf(registry, { except: ['plain', 'withList'] }).map((e) => e.code)).toEqual(['BAD_THING', 'SLOW_DOWN']);
  expect(errorOf(CommonErrors.validation)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
});

test('a factory that takes its code as an argument must have its codes named', () => {
  expect(() => errorsOf(PaymentErrors)).toThrow(/rejected/);
  const named = errorsOf(PaymentErrors, { only: ['rejected'], codes: { rejected: { status: 402, codes: ['PAYMENT_A', 'PAYMENT_B'] } } });
  expect(named).toEqual([
    { status: 402, code: 'PAYMENT_A' },
    { status: 402, code: 'PAYMENT_B' },
  ]);
});

test('codes are grouped by status, unique and sorted', () => {
  expect(groupByStatus([{ status: 409, code: 'B' }, { status: 400, code: 'Z' }, { status: 409, code: 'A' }, { status: 409, code: 'B' }])).toEqual({ '400': ['Z'], '409': ['A', 'B'] });
});
