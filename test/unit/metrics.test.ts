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
