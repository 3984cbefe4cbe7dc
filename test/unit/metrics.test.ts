import { expect, test } from 'bun:test';
import { createMetrics } from '../../src/shared/metrics.ts';

test('counters render in the Prometheus text format, labels escaped', () => {
  const m = createMetrics();
  m.inc('crochet_gateway_calls_total', { status: 'completed' });
  m.inc('crochet_gateway_calls_total', { status: 'completed' }, 2);
  m.inc('crochet_http_requests_total', { method: 'GET', status: '2xx' });
  m.inc('odd_total', { label: 'a "quoted"\\value\nnext' });
  m.gauge('crochet_up', 'Database up.', () => 1);
  const text = m.render();
  expect(text).toContain('# TYPE crochet_gateway_calls_total counter\ncrochet_gateway_calls_total{status="completed"} 3\n');
  expect(text).toContain('crochet_http_requests_total{method="GET",status="2xx"} 1');
  expect(text).toContain('odd_total{label="a \\"quoted\\"\\\\value\\nnext"} 1');
  expect(text).toContain('# TYPE crochet_up gauge\ncrochet_up 1');
  expect(text.endsWith('\n')).toBe(true);
});

test('a gauge may give one labelled series per sample (x402 settler balances)', () => {
  const m = createMetrics();
  m.gauge('crochet_x402_settler_balance', 'Balance.', () => [
    { labels: { family: 'evm', network: 'eip155:8453', address: '0xab' }, value: 0.5 },
    { labels: { family: 'solana', network: 'solana:x"y', address: 'So1' }, value: 2 },
  ]);
  m.gauge('crochet_empty', 'None yet.', () => []);
  const text = m.render();
  expect(text).toContain('# TYPE crochet_x402_settler_balance gauge\ncrochet_x402_settler_balance{family="evm",network="eip155:8453",address="0xab"} 0.5\ncrochet_x402_settler_balance{family="solana",network="solana:x\\"y",address="So1"} 2\n');
  expect(text).toContain('# TYPE crochet_empty gauge\n');
});
