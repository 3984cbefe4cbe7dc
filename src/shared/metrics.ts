/**
 * In-process counters rendered in the Prometheus text format. One instance per app; the server is
 * one process, so these are the instance's totals since start.
 */
export type Metrics = {
  inc(name: string, labels?: Record<string, string | number>, by?: number): void;
  /** Gauges read at scrape time (database status, uptime…); a list gives one labelled series each. */
  gauge(name: string, help: string, read: () => number | readonly GaugeSample[]): void;
  render(): string;
};

export type GaugeSample = { labels: Record<string, string>; value: number };

const HELP: Record<string, string> = {
  crochet_http_requests_total: 'HTTP requests answered, by method and status class.',
  crochet_gateway_calls_total: 'Gateway calls by outcome (gateway_requests status, or refused_unauthenticated).',
};

const NEEDS_ESCAPE = /[\\"\n]/;
const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function createMetrics(): Metrics {
  const counters = new Map<string, Map<string, number>>();
  const gauges: { name: string; help: string; read: () => number | readonly GaugeSample[] }[] = [];
  return {
    inc(name, labels = {}, by = 1) {
      // Runs on every request: a plain loop, and escaping only when a value needs it.
      let key = '';
      for (const k in labels) {
        const v = String(labels[k]);
        key += `${key ? ',' : ''}${k}="${NEEDS_ESCAPE.test(v) ? escape(v) : v}"`;
      }
      let series = counters.get(name);
      if (!series) counters.set(name, (series = new Map()));
      series.set(key, (series.get(key) ?? 0) + by);
    },
    gauge(name, help, read) {
      gauges.push({ name, help, read });
    },
    render() {
      const out: string[] = [];
      for (const [name, series] of counters) {
        out.push(`# HELP ${name} ${HELP[name] ?? name}`, `# TYPE ${name} counter`);
        for (const [key, value] of series) out.push(`${name}${key ? `{${key}}` : ''} ${value}`);
      }
      for (const g of gauges) {
        const value = g.read();
        out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
        if (typeof value === 'number') out.push(`${g.name} ${value}`);
        else for (const s of value) out.push(`${g.name}{${Object.entries(s.labels).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}} ${s.value}`);
      }
      return out.join('\n') + '\n';
    },
  };
}
