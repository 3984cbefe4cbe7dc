import { describe, expect, test } from 'bun:test';
import { networkLabel, percent, priceLabel, starGlyphs, usd } from '../../src/modules/web/format.ts';
import { html, raw } from '../../src/modules/web/html.ts';
import { renderMarkdown } from '../../src/modules/web/markdown.ts';
import { scoreBadge } from '../../src/modules/web/views/parts.ts';

describe('html`…`', () => {
  test('escapes every interpolated value, in text and in attributes', () => {
    const name = `<script>alert("x")</script> & 'y'`;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;</p>',
    );
  });

  test('nests fragments and arrays without escaping them twice; null, undefined and booleans render nothing', () => {
    const items = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${true}${0}`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul>0');
    expect(html`${raw('<hr>')}`.value).toBe('<hr>');
  });

  test('a plain object that looks like a fragment is still escaped', () => {
    const forged = { value: '<script>' } as unknown as string;
    expect(html`${forged}`.value).toBe('[object Object]');
  });
});

describe('renderMarkdown', () => {
  test('headings with ids, paragraphs, lists with continuation lines, tables, fenced code, rules', () => {
    const md = [
      '---', 'name: x', '---', '# Title `code`', '', 'Line one', 'line two **bold** and *em*.', '', '1. first', '   continued', '2. second', '',
      '- a', '- b', '', '| h1 | h2 |', '|---|---|', '| `c` | d |', '', '```', '<raw> & code', '```', '', '---', '', '## Next',
    ].join('\n');
    expect(renderMarkdown(md).value).toBe(
      [
        '<h1 id="title-code">Title <code>code</code></h1>',
        '<p>Line one line two <strong>bold</strong> and <em>em</em>.</p>',
        '<ol><li>first continued</li><li>second</li></ol>',
        '<ul><li>a</li><li>b</li></ul>',
        '<div class="table-wrap" tabindex="0" role="region" aria-label="Table: h1, h2"><table><thead><tr><th scope="col">h1</th><th scope="col">h2</th></tr></thead><tbody><tr><td><code>c</code></td><td>d</td></tr></tbody></table></div>',
        '<pre><code>&lt;raw&gt; &amp; code</code></pre>',
        '<hr>',
        '<h2 id="next">Next</h2>',
      ].join('\n'),
    );
  });

  test('raw HTML in the source is shown as text; only http(s), relative and fragment links become links', () => {
    const out = renderMarkdown('<script>alert(1)</script> [ok](/sell) [web](https://example.org/a) [bad](javascript:alert(1)) [frag](#x) `<b>`').value;
    expect(out).toBe(
      '<p>&lt;script&gt;alert(1)&lt;/script&gt; <a href="/sell">ok</a> <a href="https://example.org/a">web</a> [bad](javascript:alert(1)) <a href="#x">frag</a> <code>&lt;b&gt;</code></p>',
    );
  });

  test('a link target cannot break out of its attribute', () => {
    expect(renderMarkdown('[x](/a"onmouseover="alert(1))').value).not.toContain('" onmouseover');
    expect(renderMarkdown('[x](/a"onmouseover="alert(1))').value).not.toMatch(/<a href="[^"]*"on/);
  });
});

describe('format', () => {
  test.each([
    ['1.5', '$1.50'],
    ['0.002', '$0.002'],
    ['12', '$12.00'],
    ['0.25', '$0.25'],
    ['999.999999', '$999.999999'],
  ])('usd(%s) = %s', (amount, shown) => expect(usd(amount)).toBe(shown));

  test('prices, networks, rates, stars', () => {
    expect(priceLabel({ pricing_model: 'per_call', pricing_amount: '1.5' })).toBe('$1.50 / call');
    expect(priceLabel({ pricing_model: 'free', pricing_amount: '0' })).toBe('Free');
    expect(networkLabel('eip155:84532')).toBe('Base Sepolia (eip155:84532)');
    expect(networkLabel('solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1')).toBe('Solana Devnet (solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1)');
    // CAIP-2 takes the first 32 characters of the genesis hash (testnet: 4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY).
    expect(networkLabel('solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z')).toBe('Solana Testnet (solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z)');
    expect(networkLabel('eip155:990099')).toBe('eip155:990099');
    expect(networkLabel('constructor')).toBe('constructor');
    expect(percent(0.9523)).toBe('95.2%');
    expect(percent(1)).toBe('100%');
    expect(starGlyphs(4.33)).toBe('★★★★☆');
    expect(starGlyphs(0)).toBe('☆☆☆☆☆');
  });

  test('the score badge says "Crochet Score", the tier, and "Verified" only when verified', () => {
    expect(scoreBadge({ score: 812, tier: 'elite', verified: true }).value).toContain('Crochet Score <strong>812</strong> · elite</span> <span class="verified"');
    expect(scoreBadge({ score: 812, tier: 'elite', verified: true }).value).toContain('✓ Verified');
    expect(scoreBadge({ score: 640, tier: 'moderate', verified: false }).value).not.toContain('Verified');
  });
});
