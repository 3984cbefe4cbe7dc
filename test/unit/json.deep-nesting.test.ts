// Threat: JSON nested deeper than the limit reaches a recursive parser or validator (stack overflow, quadratic work).
import { expect, test } from 'bun:test';
import { exceedsJsonDepth, judgeJsonBytes } from '../../src/shared/json-bytes.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const arrays = (n: number, inner = '') => '['.repeat(n) + inner + ']'.repeat(n);
const objects = (n: number, inner = '1') => '{"k":'.repeat(n) + inner + '}'.repeat(n);

test.each([1, 2, 64, 100])('depth exactly at the limit (%i) passes, one more is refused', (limit) => {
  for (const nest of [arrays, objects]) {
    expect(exceedsJsonDepth(bytes(nest(limit)), limit)).toBe(false);
    expect(judgeJsonBytes(bytes(nest(limit)), limit)).toBe('json');
    expect(exceedsJsonDepth(bytes(nest(limit + 1)), limit)).toBe(true);
    expect(judgeJsonBytes(bytes(nest(limit + 1)), limit)).toBe('too_deep');
  }
});

test('arrays and objects count together', () => {
  const mixed = '{"a":[{"b":[1]}]}'; // depth 4
  expect(exceedsJsonDepth(bytes(mixed), 4)).toBe(false);
  expect(exceedsJsonDepth(bytes(mixed), 3)).toBe(true);
});

test('siblings do not add up: depth is nesting, not the number of brackets', () => {
  const wide = `[${Array.from({ length: 1000 }, () => '[[1],{"a":{}}]').join(',')}]`; // depth 4
  expect(exceedsJsonDepth(bytes(wide), 4)).toBe(false);
  expect(exceedsJsonDepth(bytes(wide), 3)).toBe(true);
});

test('brackets inside strings do not count', () => {
  const text = JSON.stringify({ s: '[[[[[[[[[[{{{{{{{{{{', t: ['x]]]]]]]]]]'] }); // depth 2
  expect(exceedsJsonDepth(bytes(text), 2)).toBe(false);
  expect(judgeJsonBytes(bytes(text), 2)).toBe('json');
});

test('an escaped quote does not end the string; an escaped backslash does not escape the quote after it', () => {
  // The string is `a"[[[[` : brackets still inside it.
  const escapedQuote = String.raw`{"s":"a\"[[[[[[[[","n":1}`;
  expect(exceedsJsonDepth(bytes(escapedQuote), 1)).toBe(false);
  expect(judgeJsonBytes(bytes(escapedQuote), 1)).toBe('json');
  // The string is `a\` : it ends at the quote after the two backslashes, so the brackets count.
  const escapedBackslash = String.raw`["a\\",[[[1]]]]`;
  expect(exceedsJsonDepth(bytes(escapedBackslash), 3)).toBe(true);
  expect(exceedsJsonDepth(bytes(escapedBackslash), 4)).toBe(false);
  // Unicode escapes and multi-byte characters around brackets.
  const unicode = '{"s":"\\u005b\\u005b[[ é 漢 😀 ]]","a":[["é"]]}';
  expect(exceedsJsonDepth(bytes(unicode), 3)).toBe(false);
  expect(exceedsJsonDepth(bytes(unicode), 2)).toBe(true);
});

test('a deep body hidden after a long string is still found', () => {
  const text = `["${'['.repeat(10_000)}", ${arrays(65, '1')}]`;
  expect(exceedsJsonDepth(bytes(text), 64)).toBe(true);
  expect(exceedsJsonDepth(bytes(text), 66)).toBe(false);
});

test('hostile sizes are judged in linear time without touching the parser', () => {
  for (const n of [5_000, 50_000, 500_000]) {
    expect(judgeJsonBytes(bytes(arrays(n)), 64)).toBe('too_deep');
    expect(judgeJsonBytes(bytes(objects(n)), 64)).toBe('too_deep');
  }
});

test('not JSON stays not JSON', () => {
  for (const text of ['', '   ', '[', ']]]][[[[', '{"a":1', 'nope', '{"a":"\\"}']) expect(judgeJsonBytes(bytes(text), 64)).toBe('not_json');
  expect(judgeJsonBytes(new Uint8Array([0x22, 0xe9, 0x22]), 64)).toBe('not_json');
});
