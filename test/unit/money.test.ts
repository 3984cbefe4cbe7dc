import { describe, expect, test } from 'bun:test';
import { MoneyParseError, microToDecimalString, parseUsdToMicro } from '../../src/shared/money.ts';

describe('microToDecimalString', () => {
  test.each([
    [250000, '0.25'],
    [-6250, '-0.00625'],
    [1_000_000, '1'],
    [0, '0'],
    [1, '0.000001'],
    [-1, '-0.000001'],
    [10_000, '0.01'],
    [243_750, '0.24375'],
    [123_456_789, '123.456789'],
    [-5_000_000, '-5'],
    [Number.MAX_SAFE_INTEGER, '9007199254.740991'],
  ])('%p → %p', (micro, text) => {
    expect(microToDecimalString(micro)).toBe(text);
  });

  test('bigint beyond the safe range formats exactly', () => {
    expect(microToDecimalString(123_456_789_012_345_678_901n)).toBe('123456789012345.678901');
    expect(microToDecimalString(-1_000_000n)).toBe('-1');
  });

  test('refuses non-integer numbers', () => {
    expect(() => microToDecimalString(0.5)).toThrow(RangeError);
    expect(() => microToDecimalString(Number.NaN)).toThrow(RangeError);
    expect(() => microToDecimalString(2 ** 60)).toThrow(RangeError);
  });
});

describe('parseUsdToMicro', () => {
  test.each([
    ['0.01', 10_000],
    ['0.25', 250_000],
    ['1', 1_000_000],
    ['1.000000', 1_000_000],
    ['0.000001', 1],
    ['0', 0],
    ['007.5', 7_500_000],
    ['9007199254.740991', Number.MAX_SAFE_INTEGER],
  ])('string %p → %p', (text, micro) => {
    expect(parseUsdToMicro(text)).toBe(micro);
  });

  test.each([
    [0.01, 10_000],
    [0.1, 100_000],
    [0.25, 250_000],
    [1, 1_000_000],
    [0.000001, 1],
    [1.1, 1_100_000],
    [-0, 0],
  ])('number %p → %p (through its shortest string, no float arithmetic)', (n, micro) => {
    expect(parseUsdToMicro(n)).toBe(micro);
  });

  test('round-trips with microToDecimalString', () => {
    for (const micro of [0, 1, 9, 10, 999_999, 1_000_000, 1_000_001, 250_000, 123_456_789]) {
      expect(parseUsdToMicro(microToDecimalString(micro))).toBe(micro);
    }
  });

  test.each([
    ['0.0000001', 'decimal places'],
    ['1.1234567', 'decimal places'],
    ['-1', 'negative'],
    ['-0.01', 'negative'],
    ['', 'plain decimal'],
    [' 1', 'plain decimal'],
    ['1 ', 'plain decimal'],
    ['1e3', 'plain decimal'],
    ['0x10', 'plain decimal'],
    ['1.', 'plain decimal'],
    ['.5', 'plain decimal'],
    ['+1', 'plain decimal'],
    ['1,5', 'plain decimal'],
    ['NaN', 'plain decimal'],
    ['Infinity', 'plain decimal'],
    ['١', 'plain decimal'],
    ['9007199254.740992', 'too large'],
    ['100000000000000000000', 'too large'],
  ])('string %p is refused (%s)', (text, why) => {
    expect(() => parseUsdToMicro(text)).toThrow(MoneyParseError);
    expect(() => parseUsdToMicro(text)).toThrow(why);
  });

  test.each([
    // 0.1 + 0.2 is 0.30000000000000004 as a float: too many decimals, refused rather than rounded.
    [0.1 + 0.2, 'decimal places'],
    [1e-7, 'plain decimal'],
    [1e21, 'plain decimal'],
    [-0.5, 'negative'],
    [Number.NaN, 'finite'],
    [Number.POSITIVE_INFINITY, 'finite'],
  ])('number %p is refused (%s)', (n, why) => {
    expect(() => parseUsdToMicro(n)).toThrow(why);
  });

  test('refuses values that are neither strings nor numbers', () => {
    expect(() => parseUsdToMicro(null as unknown as string)).toThrow(MoneyParseError);
    expect(() => parseUsdToMicro({} as unknown as string)).toThrow(MoneyParseError);
  });
});
