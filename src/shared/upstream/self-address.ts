/**
 * "Is this upstream this very instance?" (SPEC §4 "No loops"). A seller could point a listing at
 * its own gateway URL — or two listings at each other — and turn one buyer call into a fan-out.
 * An upstream is this instance when its host is the public URL's host, or when it resolves to an
 * address the server listens on. In production both are refused whatever the port (a reverse proxy
 * on another port may lead back here); with private upstreams allowed (development, tests, where
 * sellers run on loopback next to the server) the port must match too.
 */
import { networkInterfaces } from 'node:os';
import { formatIp, parseIp, type IpAddress } from './ip.ts';

/** Where this instance can be reached. Build one per app with `instanceAddressOf`. */
export type InstanceAddress = {
  /** Host of the public URL: lower case, no IPv6 brackets, no trailing dot. */
  publicHost: string;
  publicPort: number;
  /** The listening host as configured: an IP literal, `0.0.0.0`/`::` (every local address) or a name. */
  listenHost: string;
  /** `listenHost` parsed, when it is an IP literal. */
  listenIp: IpAddress | null;
  /** 0 when the port is picked at listen time: then only the public URL can be compared by port. */
  listenPort: number;
  /** Canonical addresses of this machine's interfaces, refreshed now and then (they rarely change). */
  localAddresses(): ReadonlySet<string>;
};

const INTERFACES_TTL_MS = 60_000;

/** Canonical text of an address, IPv4-mapped IPv6 written as the IPv4 address it reaches. */
export function addressKey(ip: IpAddress): string {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return formatIp({ family: 4, value: Number(ip.value & 0xffffffffn) });
  return formatIp(ip);
}

const defaultPort = (protocol: string) => (protocol === 'https:' ? 443 : 80);

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address ?? '');
}

/**
 * The instance's address from its config. `interfaces` lists this machine's addresses (tests pass
 * their own; the default asks the OS).
 */
export function instanceAddressOf(
  config: { public_url: string; host: string; port: number },
  interfaces: () => string[] = interfaceAddresses,
): InstanceAddress {
  const url = new URL(config.public_url);
  const listenHost = config.host.replace(/^\[|\]$/g, '').toLowerCase();
  let cached: { at: number; set: Set<string> } | null = null;
  return {
    publicHost: url.hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '').toLowerCase(),
    publicPort: url.port === '' ? defaultPort(url.protocol) : Number(url.port),
    listenHost,
    listenIp: parseIp(listenHost),
    listenPort: config.port,
    localAddresses() {
      const now = Date.now();
      if (cached === null || now - cached.at > INTERFACES_TTL_MS) {
        const set = new Set<string>();
        for (const text of interfaces()) {
          const ip = parseIp(text.replace(/%.*$/, ''));
          if (ip) set.add(addressKey(ip));
        }
        cached = { at: now, set };
      }
      return cached.set;
    },
  };
}

const isUnspecified = (ip: IpAddress) => ip.value === 0 || ip.value === 0n;
const isLoopback = (ip: IpAddress) => (ip.family === 4 ? ip.value >>> 24 === 127 : ip.value === 1n);

/** True when `hostname` (as the guard normalised it) is the public URL's host, on its port when ports count. */
export function isOwnPublicHost(self: InstanceAddress, hostname: string, port: number, comparePorts: boolean): boolean {
  if (comparePorts && port !== self.publicPort) return false;
  if (hostname === self.publicHost) return true;
  // A public URL on an IP literal is also reached through that address's other spellings (IPv4-mapped).
  const own = parseIp(self.publicHost);
  const other = parseIp(hostname);
  return own !== null && other !== null && addressKey(own) === addressKey(other);
}

/**
 * True when a connection to `ip`:`port` would reach this server's listening socket. `listenIps`
 * are the addresses a named listening host resolves to (ignored for IP literals).
 */
export function reachesListener(self: InstanceAddress, ip: IpAddress, port: number, comparePorts: boolean, listenIps: IpAddress[] = []): boolean {
  if (comparePorts && (self.listenPort === 0 || port !== self.listenPort)) return false;
  // An IPv4-mapped IPv6 address reaches the IPv4 address it maps: judge that one.
  ip = parseIp(addressKey(ip)) ?? ip;
  const listen = self.listenIp;
  // Connecting to 0.0.0.0 or :: reaches the local host on Linux.
  if (isUnspecified(ip)) return true;
  if (listen !== null && isUnspecified(listen)) {
    // Bound to every address: all of loopback and every interface address.
    return isLoopback(ip) || self.localAddresses().has(addressKey(ip));
  }
  const key = addressKey(ip);
  const bound = listen !== null ? [listen] : listenIps;
  return bound.some((b) => addressKey(b) === key);
}
