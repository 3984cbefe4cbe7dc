/**
 * Strict IPv4/IPv6 parsing and "is this a public unicast address?" classification for the SSRF
 * guard. Parsers accept only the standard textual forms: anything a lenient parser (inet_aton,
 * WHATWG URL) would also read as a number — `127.1`, `0x7f.1`, `2130706433`, `0177.0.0.1` — is
 * refused here, so the guard and the socket can never disagree about which host is meant.
 */

/** Why an address is not a public upstream. Stable snake_case, shown in error details. */
export type UnsafeReason =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link_local'
  | 'unique_local'
  | 'site_local'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'benchmarking'
  | 'documentation';

export type IpAddress = { family: 4; value: number } | { family: 6; value: bigint };

/** The address to connect to when it is safe, or why it is not. */
export type IpVerdict = { safe: true; connect: IpAddress } | { safe: false; reason: UnsafeReason };

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** Parses exactly four decimal parts 0–255 without leading zeros (`"10.0.0.1"` → 167772161). */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

function parseHextets(text: string): number[] | null {
  if (text === '') return [];
  const out: number[] = [];
  for (const group of text.split(':')) {
    if (!HEXTET.test(group)) return null;
    out.push(Number.parseInt(group, 16));
  }
  return out;
}

/**
 * Parses an IPv6 address without brackets (`"::ffff:127.0.0.1"`, `"2001:db8::1"`) to a 128-bit
 * value. Zone ids (`fe80::1%eth0`) are refused: they only exist for link-local addresses.
 */
export function parseIPv6(text: string): bigint | null {
  if (text.includes('%')) return null;
  let head = text;
  let embedded: number | null = null;
  const lastColon = text.lastIndexOf(':');
  if (lastColon === -1) return null;
  if (text.slice(lastColon + 1).includes('.')) {
    embedded = parseIPv4(text.slice(lastColon + 1));
    if (embedded === null) return null;
    head = text.slice(0, lastColon);
    // "::1.2.3.4" leaves ":" and "1::1.2.3.4" leaves "1:": the cut colon belonged to a "::".
    if (head.endsWith(':')) head += ':';
  }
  const wanted = embedded === null ? 8 : 6;
  const gap = head.indexOf('::');
  let groups: number[];
  if (gap === -1) {
    const all = parseHextets(head);
    if (all === null || all.length !== wanted) return null;
    groups = all;
  } else {
    if (head.indexOf('::', gap + 1) !== -1) return null;
    const left = parseHextets(head.slice(0, gap));
    const right = parseHextets(head.slice(gap + 2));
    // "::" stands for at least one zero group.
    if (left === null || right === null || left.length + right.length > wanted - 1) return null;
    groups = [...left, ...new Array<number>(wanted - left.length - right.length).fill(0), ...right];
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  if (embedded !== null) value = (value << 32n) | BigInt(embedded);
  return value;
}

/** Parses either family; IPv6 may be given in URL brackets (`"[::1]"`). */
export function parseIp(text: string): IpAddress | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.includes(':')) {
    const value = parseIPv6(bare);
    return value === null ? null : { family: 6, value };
  }
  const value = parseIPv4(bare);
  return value === null ? null : { family: 4, value };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

type V4Block = { base: number; bits: number; reason: UnsafeReason };
type V6Block = { base: bigint; bits: number; reason: UnsafeReason };

function v4(cidr: string, reason: UnsafeReason): V4Block {
  const [addr = '', bits = ''] = cidr.split('/');
  const base = parseIPv4(addr);
  if (base === null) throw new Error(`bad IPv4 block ${cidr}`);
  return { base, bits: Number(bits), reason };
}

function v6(cidr: string, reason: UnsafeReason): V6Block {
  const [addr = '', bits = ''] = cidr.split('/');
  const base = parseIPv6(addr);
  if (base === null) throw new Error(`bad IPv6 block ${cidr}`);
  return { base, bits: Number(bits), reason };
}

// IANA special-purpose registry (RFC 6890 and successors): nothing here is an ordinary public host.
const UNSAFE_V4: readonly V4Block[] = [
  v4('255.255.255.255/32', 'broadcast'),
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'cgnat'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link_local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

const UNSAFE_V6: readonly V6Block[] = [
  v6('64:ff9b:1::/48', 'reserved'),
  v6('100::/64', 'reserved'),
  v6('2001::/23', 'reserved'),
  v6('2001:db8::/32', 'documentation'),
  v6('3fff::/20', 'documentation'),
  v6('fc00::/7', 'unique_local'),
  v6('fe80::/10', 'link_local'),
  v6('fec0::/10', 'site_local'),
  v6('ff00::/8', 'multicast'),
];

const MAPPED = v6('::ffff:0:0/96', 'reserved');
const COMPATIBLE = v6('::/96', 'reserved');
const TRANSLATED = v6('::ffff:0:0:0/96', 'reserved');
const NAT64 = v6('64:ff9b::/96', 'reserved');
const SIX_TO_FOUR = v6('2002::/16', 'reserved');
const GLOBAL_UNICAST = v6('2000::/3', 'reserved');

function inV4(value: number, block: V4Block): boolean {
  const mask = block.bits === 0 ? 0 : (0xffffffff << (32 - block.bits)) >>> 0;
  return ((value & mask) >>> 0) === ((block.base & mask) >>> 0);
}

function inV6(value: bigint, block: V6Block): boolean {
  const shift = BigInt(128 - block.bits);
  return value >> shift === block.base >> shift;
}

function classifyV4(value: number): IpVerdict {
  const block = UNSAFE_V4.find((b) => inV4(value, b));
  return block ? { safe: false, reason: block.reason } : { safe: true, connect: { family: 4, value } };
}

function classifyV6(value: bigint): IpVerdict {
  const low32 = Number(value & 0xffffffffn);
  if (value === 0n) return { safe: false, reason: 'unspecified' };
  if (value === 1n) return { safe: false, reason: 'loopback' };
  // IPv4-mapped reaches the IPv4 host itself: judge it, and connect over IPv4.
  if (inV6(value, MAPPED)) return classifyV4(low32);
  // Deprecated compatible/translated forms have no legitimate public use: refuse them all,
  // naming the embedded reason when there is one.
  if (inV6(value, COMPATIBLE) || inV6(value, TRANSLATED)) {
    const inner = classifyV4(low32);
    return { safe: false, reason: inner.safe ? 'reserved' : inner.reason };
  }
  // NAT64 and 6to4 are routed to the embedded IPv4 host: it must be public too.
  if (inV6(value, NAT64) || inV6(value, SIX_TO_FOUR)) {
    const embedded = inV6(value, NAT64) ? low32 : Number((value >> 80n) & 0xffffffffn);
    const inner = classifyV4(embedded);
    return inner.safe ? { safe: true, connect: { family: 6, value } } : inner;
  }
  const block = UNSAFE_V6.find((b) => inV6(value, b));
  if (block) return { safe: false, reason: block.reason };
  // Only 2000::/3 is allocated for global unicast; everything else is reserved by IANA.
  if (!inV6(value, GLOBAL_UNICAST)) return { safe: false, reason: 'reserved' };
  return { safe: true, connect: { family: 6, value } };
}

/** Decides whether an address is a public unicast host a gateway may connect to. */
export function classifyIp(ip: IpAddress): IpVerdict {
  return ip.family === 4 ? classifyV4(ip.value) : classifyV6(ip.value);
}
