/*
 * Extra lookup keys derived from a canonical value (the output of normalizeIndicator),
 * for matching rules. Inputs are assumed canonical: these run on the search hot path,
 * so they do no re-validation, only index scans and slices.
 */

const SLASH = 0x2f;
const QUESTION = 0x3f;
/** A canonical IPv4 host; a canonical domain cannot look like this (numeric TLDs are rejected). */
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * Parent domains of at least two labels, nearest first, without the domain itself:
 * `a.b.evil.com` -> [`b.evil.com`, `evil.com`]. There is no public-suffix list, so
 * `x.co.uk` yields `co.uk`.
 */
export function parentDomains(domain: string): string[] {
  const parents: string[] = [];
  let dot = domain.indexOf('.');
  while (dot !== -1) {
    const next = domain.indexOf('.', dot + 1);
    if (next === -1) break; // the rest would be the bare TLD
    parents.push(domain.slice(dot + 1));
    dot = next;
  }
  return parents;
}

/** Keys to match a domain against domain rules: exact first, then its parents. */
export function domainCandidates(domain: string): string[] {
  return [domain, ...parentDomains(domain)];
}

/**
 * URL-prefix candidates, longest first: the full value, then every prefix that ends
 * right before a "/" or "?" in it.
 * `evil.com/kit/a.php?x=1` -> [`evil.com/kit/a.php?x=1`, `evil.com/kit/a.php`, `evil.com/kit`, `evil.com`].
 */
export function urlPrefixes(url: string): string[] {
  const prefixes = [url];
  for (let i = url.length - 1; i > 0; i--) {
    const c = url.charCodeAt(i);
    if (c === SLASH || c === QUESTION) prefixes.push(url.slice(0, i));
  }
  return prefixes;
}

export interface UrlHost {
  type: 'domain' | 'ip';
  value: string;
}

/** The host of a canonical URL, as a canonical domain or ip (IPv6 without brackets). */
export function urlHost(url: string): UrlHost {
  let end = 0;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === SLASH || c === QUESTION) break;
    end++;
  }
  const host = url.slice(0, end);
  if (host.startsWith('[')) return { type: 'ip', value: host.slice(1, -1) };
  return { type: IPV4.test(host) ? 'ip' : 'domain', value: host };
}

/** The domain part of a canonical email address. */
export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

export interface IpNetwork {
  family: 4 | 6;
  /** Network address in canonical text, host bits already clear. */
  address: string;
  /** Prefix length; 32 or 128 for a single address. */
  prefix: number;
}

/** Network of a canonical `ip` or `cidr` value, for building containment queries. */
export function networkOf(canonical: string): IpNetwork {
  const slash = canonical.indexOf('/');
  const address = slash === -1 ? canonical : canonical.slice(0, slash);
  const family = address.includes(':') ? 6 : 4;
  const prefix = slash === -1 ? (family === 4 ? 32 : 128) : Number(canonical.slice(slash + 1));
  return { family, address, prefix };
}
