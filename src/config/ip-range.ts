import ipaddr from 'ipaddr.js';

/*
 * Address and range parsing lives here, below `common`, because the configuration parses
 * TRUST_PROXY at start-up; `common/net/ip-utils` builds matching and formatting on it.
 */

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
export type IpRange = [IpAddress, number];

/** Parses an IP address; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4. Null when not an IP. */
export function parseIp(value: string): IpAddress | null {
  const text = value.trim();
  if (!ipaddr.isValid(text)) return null;
  // ipaddr.isValid accepts legacy forms such as "1" or "0x7f.1"; only dotted-quad IPv4 is an address here.
  if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  const addr = ipaddr.parse(text);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

/** Parses "ip" or "ip/prefix" into a range; a bare IP is a /32 or /128. Throws with a reason. */
export function parseRange(value: string): IpRange {
  const text = value.trim();
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const addr = parseIp(addrText);
  if (!addr) throw new Error(`"${value}" is not an IP address or CIDR`);
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (slash === -1) return [addr, max];
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw new Error(`"${value}" has an invalid prefix length`);
  let prefix = Number(prefixText);
  // An IPv4-mapped IPv6 network becomes the IPv4 network it denotes.
  if (addr.kind() === 'ipv4' && addrText.includes(':')) prefix -= 96;
  if (prefix < 0 || prefix > max) throw new Error(`"${value}" has an invalid prefix length`);
  return [addr, prefix];
}

export function parseCidrList(list: string): IpRange[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseRange);
}
