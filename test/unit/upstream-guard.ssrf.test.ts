// Threat: a seller (or DNS they control) points the gateway at loopback, private, cloud-metadata or other internal hosts (SSRF).
import { describe, expect, test } from 'bun:test';
import { AppError } from '../../src/shared/app-error.ts';
import { vetUpstreamUrl, type Resolver } from '../../src/shared/upstream/guard.ts';
import { classifyIp, formatIp, parseIPv4, parseIPv6, parseIp } from '../../src/shared/upstream/ip.ts';

const PUBLIC_V4 = '93.184.216.34';

/** A resolver that answers from a table and records what it was asked. */
function fakeResolver(table: Record<string, string[]>, asked: string[] = []): Resolver {
  return async (hostname) => {
    asked.push(hostname);
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer;
  };
}

const publicDns = fakeResolver({
  'api.example.com': [PUBLIC_V4],
  'example.com': [PUBLIC_V4],
  'good.example': [PUBLIC_V4],
});

async function refusal(raw: string, resolve: Resolver = publicDns, allowPrivate = false): Promise<AppError> {
  try {
    await vetUpstreamUrl(raw, { allowPrivate, resolve, phase: 'call' });
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`accepted: ${raw}`);
}

function hostOf(raw: string): string | null {
  const match = /^[a-z]+:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^/:?#]*)/i.exec(raw);
  return match?.[1] ? match[1].toLowerCase() : null;
}

type Hostile = { url: string; dns?: string[] };

const HOSTILE_URLS: string[] = [
  'http://example.com/', 'HTTP://example.com/', 'https://localhost/', 'https://LOCALHOST./',
  'https://a.localhost/', 'https://x.localhost/', 'https://printer.local/', 'https://db.internal/',
  'https://metadata.google.internal/computeMetadata/v1/', 'https://127.0.0.1/',
  'https://127.0.0.1:8443/admin', 'https://127.1/', 'https://0x7f.1/', 'https://0x7f000001/',
  'https://2130706433/', 'https://017700000001/', 'https://0177.0.0.1/', 'https://127.0.0.1./',
  'https://%31%32%37.0.0.1/', 'https://１２７.０.０.１/', 'https://08.8.8.8/', 'https://[::1]/',
  'https://[0:0:0:0:0:0:0:1]/', 'https://[::ffff:127.0.0.1]/', 'https://[::ffff:7f00:1]/',
  'https://[::127.0.0.1]/', 'https://[64:ff9b::10.0.0.1]/', 'https://[2002:a9fe:a9fe::1]/',
  'https://[fe80::1]/', 'https://[fc00::1]/', 'https://[fd12:3456::1]/', 'https://[::]/',
  'https://[ff02::1]/', 'https://[2001:db8::1]/', 'https://169.254.169.254/latest/meta-data',
  'https://100.64.0.1/', 'https://100.127.255.254/', 'https://10.0.0.1/',
  'https://10.255.255.255/', 'https://172.16.0.1/', 'https://172.31.255.255/',
  'https://192.168.0.1/', 'https://192.168.255.255/', 'https://0.0.0.0/', 'https://0/',
  'https://224.0.0.1/', 'https://255.255.255.255/', 'https://240.0.0.1/', 'https://198.18.0.1/',
  'https://good.example@127.0.0.1/', 'https://user:pass@api.example.com/',
  'https://api.example.com@169.254.169.254/', 'https://@api.example.com/',
  'ftp://api.example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'https:api.example.com/x',
  'https:/api.example.com/x', '//api.example.com/x', '/relative/path', 'not a url', '',
  'https:///x', 'https://', ' https://api.example.com/', 'https://api.exa\tmple.com/',
  'https://127.0.0\n.1/',
];

// A public-looking name is only as safe as every address it resolves to.
const HOSTILE_ANSWERS: string[][] = [
  ['10.0.0.5'],
  [PUBLIC_V4, '127.0.0.1'],
  ['::ffff:192.168.1.1'],
  ['2606:2800:220:1::1', 'fd00::1'],
  ['169.254.169.254'],
  ['fe80::1%eth0'],
  ['not-an-ip'],
];

const HOSTILE: Hostile[] = [
  ...HOSTILE_URLS.map((url) => ({ url })),
  ...HOSTILE_ANSWERS.map((dns) => ({ url: 'https://api.good-seller.com/', dns })),
];

describe('refused in production mode', () => {
  test('the table is large enough to mean something', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(45);
  });

  for (const { url, dns } of HOSTILE) {
    test(`${JSON.stringify(url)}${dns ? ` → ${dns.join(', ')}` : ''}`, async () => {
      const resolve = dns ? fakeResolver({ 'api.good-seller.com': dns }) : publicDns;
      const error = await refusal(url, resolve);
      expect(error.status).toBe(422);
      expect(error.code).toBe('UNSAFE_ENDPOINT_URL');
      expect(error.recovery?.next_action).toBe('fix_request');
      const host = hostOf(url);
      if (host) expect(error.message.toLowerCase()).not.toContain(host.replace(/\.$/, ''));
      expect(error.message).not.toContain(url.trim() || 'never-empty');
      for (const address of dns ?? []) expect(error.message).not.toContain(address);
    });
  }

  test('reasons are specific', async () => {
    expect((await refusal('https://169.254.169.254/')).details).toEqual({ reason: 'link_local' });
    expect((await refusal('https://127.1/')).details).toEqual({ reason: 'non_canonical_host' });
    expect((await refusal('https://a@b.example/')).details).toEqual({ reason: 'credentials' });
    expect((await refusal('https://[::ffff:10.1.2.3]/')).details).toEqual({ reason: 'private' });
    expect((await refusal('https://100.64.0.1/')).details).toEqual({ reason: 'cgnat' });
    expect((await refusal('https://0x7f.1/')).details).toEqual({ reason: 'non_canonical_host' });
    expect((await refusal('https://[::ffff:127.0.0.1]/')).details).toEqual({ reason: 'loopback' });
    expect((await refusal('https://[fd12:3456::1]/')).details).toEqual({ reason: 'unique_local' });
    expect((await refusal('https://[ff02::1]/')).details).toEqual({ reason: 'multicast' });
    expect((await refusal('https://0.0.0.0/')).details).toEqual({ reason: 'unspecified' });
    expect((await refusal('https://LOCALHOST./')).details).toEqual({ reason: 'local_name' });
    expect((await refusal('https:///x')).details).toEqual({ reason: 'empty_host' });
    expect((await refusal('file:///etc/passwd')).details).toEqual({ reason: 'scheme' });
    const viaDns = await refusal('https://api.good-seller.com/', fakeResolver({ 'api.good-seller.com': ['10.0.0.5'] }));
    expect(viaDns.message).toContain('resolves to');
    expect(viaDns.details).toEqual({ reason: 'private' });
    const poisoned = await refusal('https://api.good-seller.com/', fakeResolver({ 'api.good-seller.com': [PUBLIC_V4, '127.0.0.1'] }));
    expect(poisoned.details).toEqual({ reason: 'loopback' });
  });

  test('the resolver is never asked about a refused name', async () => {
    const asked: string[] = [];
    await refusal('https://db.internal/', fakeResolver({}, asked));
    await refusal('https://user:pass@api.example.com/', fakeResolver({}, asked));
    expect(asked).toEqual([]);
  });
});

describe('accepted in production mode', () => {
  const dns = fakeResolver({
    'api.example.com': [PUBLIC_V4],
    'v6.example.com': ['2606:2800:220:1::1'],
    'dual.example.com': [PUBLIC_V4, '2606:2800:220:1::1'],
    'mapped.example.com': ['::ffff:93.184.216.34'],
    'xn--bcher-kva.example': ['1.1.1.1'],
  });
  const CASES: { url: string; address: string; family: 4 | 6; port: number; hostname: string }[] = [
    { url: 'https://api.example.com/v1/run?x=1', address: PUBLIC_V4, family: 4, port: 443, hostname: 'api.example.com' },
    { url: 'HTTPS://API.Example.COM:8443/x', address: PUBLIC_V4, family: 4, port: 8443, hostname: 'api.example.com' },
    { url: 'https://api.example.com./', address: PUBLIC_V4, family: 4, port: 443, hostname: 'api.example.com' },
    { url: 'https://v6.example.com/', address: '2606:2800:220:1::1', family: 6, port: 443, hostname: 'v6.example.com' },
    { url: 'https://dual.example.com/', address: PUBLIC_V4, family: 4, port: 443, hostname: 'dual.example.com' },
    { url: 'https://mapped.example.com/', address: PUBLIC_V4, family: 4, port: 443, hostname: 'mapped.example.com' },
    { url: 'https://8.8.8.8/', address: '8.8.8.8', family: 4, port: 443, hostname: '8.8.8.8' },
    { url: 'https://[2606:4700:4700::1111]:9443/', address: '2606:4700:4700::1111', family: 6, port: 9443, hostname: '2606:4700:4700::1111' },
    { url: 'https://bücher.example/', address: '1.1.1.1', family: 4, port: 443, hostname: 'xn--bcher-kva.example' },
    { url: 'https://api.example.com/path\\with?q=@127.0.0.1#frag', address: PUBLIC_V4, family: 4, port: 443, hostname: 'api.example.com' },
  ];
  for (const c of CASES) {
    test(c.url, async () => {
      const result = await vetUpstreamUrl(c.url, { allowPrivate: false, resolve: dns, phase: 'call' });
      expect(result.warnings).toEqual([]);
      expect(result.vetted).not.toBeNull();
      const { address, family, port, hostname } = result.vetted!;
      expect({ address, family, port, hostname }).toEqual({ address: c.address, family: c.family, port: c.port, hostname: c.hostname });
    });
  }

  test('the vetted URL keeps path and query; the address is the first answer', async () => {
    const resolve = fakeResolver({ 'api.example.com': ['1.1.1.1', PUBLIC_V4] });
    const { vetted } = await vetUpstreamUrl('https://api.example.com/a/b?c=d', { allowPrivate: false, resolve, phase: 'save' });
    expect(vetted?.address).toBe('1.1.1.1');
    expect(vetted?.url.pathname).toBe('/a/b');
    expect(vetted?.url.search).toBe('?c=d');
    expect(vetted?.url.host).toBe('api.example.com');
  });
});

describe('names that do not resolve', () => {
  const nothing = fakeResolver({});
  const empty: Resolver = async () => [];

  test('save: accepted with a warning and nothing to connect to', async () => {
    for (const resolve of [nothing, empty]) {
      const result = await vetUpstreamUrl('https://later.seller.example/x', { allowPrivate: false, resolve, phase: 'save' });
      expect(result.vetted).toBeNull();
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings[0]).toContain('does not resolve');
    }
  });

  test('save: still refused when the name itself is unsafe', async () => {
    const error = await vetUpstreamUrl('https://later.internal/', { allowPrivate: false, resolve: nothing, phase: 'save' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('UNSAFE_ENDPOINT_URL');
  });

  test('call: 502 UPSTREAM_UNREACHABLE that does not name the host', async () => {
    for (const resolve of [nothing, empty]) {
      const error = await vetUpstreamUrl('https://later.seller.example/x', { allowPrivate: false, resolve, phase: 'call' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      const appError = error as AppError;
      expect(appError.status).toBe(502);
      expect(appError.code).toBe('UPSTREAM_UNREACHABLE');
      expect(appError.message).not.toContain('seller.example');
      expect(JSON.stringify(appError.recovery)).not.toContain('seller.example');
      expect(appError.recovery?.retryable).toBe(true);
    }
  });
});

describe('allowPrivate (development/test switch)', () => {
  const opts = (resolve: Resolver = publicDns) => ({ allowPrivate: true, resolve, phase: 'call' as const });

  test('accepts http:// and loopback literals', async () => {
    const { vetted } = await vetUpstreamUrl('http://127.0.0.1:1234/x', opts());
    expect(vetted).toMatchObject({ address: '127.0.0.1', family: 4, port: 1234, hostname: '127.0.0.1' });
    expect(vetted?.url.protocol).toBe('http:');
  });

  test('accepts localhost and private answers', async () => {
    const { vetted } = await vetUpstreamUrl('http://localhost:8080/', opts(fakeResolver({ localhost: ['::1', '127.0.0.1'] })));
    expect(vetted).toMatchObject({ address: '::1', family: 6, port: 8080 });
    const priv = await vetUpstreamUrl('https://db.internal/', opts(fakeResolver({ 'db.internal': ['10.1.2.3'] })));
    expect(priv.vetted?.address).toBe('10.1.2.3');
  });

  test('still refuses credentials, other schemes and non-canonical numbers', async () => {
    for (const url of ['http://user:pass@127.0.0.1:1234/', 'http://@127.0.0.1/', 'ftp://127.0.0.1/', 'file:///etc/passwd', 'http://127.1/']) {
      const error = await refusal(url, publicDns, true);
      expect(error.code).toBe('UNSAFE_ENDPOINT_URL');
      expect(error.message).not.toContain('127.');
    }
  });
});

describe('IP parsing and classification', () => {
  test('IPv4 accepts only canonical dotted quads', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('10.0.0.1')).toBe(167772161);
    for (const bad of ['127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '256.0.0.1', '1.2.3.4.5', '1.2.3.', ' 1.2.3.4', '1.2.3.-1', '1.2.3.4 ']) {
      expect(parseIPv4(bad)).toBeNull();
    }
  });

  test('IPv6 known answers', () => {
    expect(parseIPv6('::')).toBe(0n);
    expect(parseIPv6('::1')).toBe(1n);
    expect(parseIPv6('::ffff:127.0.0.1')).toBe(0xffff7f000001n);
    expect(parseIPv6('::ffff:7f00:1')).toBe(0xffff7f000001n);
    expect(parseIPv6('1::')).toBe(1n << 112n);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toBe(0x00010002000300040005000600070008n);
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')).toBe(0x00010002000300040005000601020304n);
    expect(parseIPv6('FE80::A')).toBe(0xfe80000000000000000000000000000an);
    for (const bad of [':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '12345::', 'g::', ':1', '1:', '::ffff:127.1', '::ffff:1.2.3.04', 'fe80::1%eth0', '']) {
      expect(parseIPv6(bad)).toBeNull();
    }
  });

  test('formatting is RFC 5952', () => {
    const fmt = (s: string) => formatIp(parseIp(s)!);
    expect(fmt('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(fmt('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(fmt('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(fmt('2001:db8:1:2:3:4:0:5')).toBe('2001:db8:1:2:3:4:0:5');
    expect(fmt('::')).toBe('::');
    expect(fmt('[::1]')).toBe('::1');
    expect(fmt('1::')).toBe('1::');
    expect(fmt('93.184.216.34')).toBe('93.184.216.34');
  });

  test('range edges', () => {
    const reason = (s: string) => {
      const verdict = classifyIp(parseIp(s)!);
      return verdict.safe ? 'safe' : verdict.reason;
    };
    expect(reason('9.255.255.255')).toBe('safe');
    expect(reason('10.0.0.0')).toBe('private');
    expect(reason('11.0.0.0')).toBe('safe');
    expect(reason('100.63.255.255')).toBe('safe');
    expect(reason('100.64.0.0')).toBe('cgnat');
    expect(reason('100.128.0.0')).toBe('safe');
    expect(reason('172.15.255.255')).toBe('safe');
    expect(reason('172.32.0.0')).toBe('safe');
    expect(reason('192.167.255.255')).toBe('safe');
    expect(reason('192.169.0.0')).toBe('safe');
    expect(reason('169.253.255.255')).toBe('safe');
    expect(reason('223.255.255.255')).toBe('safe');
    expect(reason('255.255.255.255')).toBe('broadcast');
    expect(reason('1.1.1.1')).toBe('safe');
    expect(reason('2606:2800:220:1::1')).toBe('safe');
    expect(reason('64:ff9b::808:808')).toBe('safe');
    expect(reason('64:ff9b::7f00:1')).toBe('loopback');
    expect(reason('2002:808:808::1')).toBe('safe');
    expect(reason('2002:c0a8:101::1')).toBe('private');
    expect(reason('::ffff:0:a00:1')).toBe('private');
    expect(reason('::8.8.8.8')).toBe('reserved');
    expect(reason('2001::1')).toBe('reserved');
    expect(reason('fec0::1')).toBe('site_local');
    expect(reason('4000::1')).toBe('reserved');
    expect(reason('febf:ffff::1')).toBe('link_local');
    expect(reason('fbff::1')).toBe('reserved');
  });

  test('IPv4-mapped answers connect over IPv4', () => {
    const verdict = classifyIp(parseIp('::ffff:8.8.8.8')!);
    expect(verdict.safe && formatIp(verdict.connect)).toBe('8.8.8.8');
  });
});
