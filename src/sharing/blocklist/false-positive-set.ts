import ipaddr from 'ipaddr.js';
import {
  domainCandidates,
  INDICATOR_TYPE_DEFINITIONS,
  emailDomain,
  networkOf,
  urlHost,
  urlPrefixes,
  type IndicatorType,
} from '../../indicators';

/**
 * The active FalsePositive indicators, held in memory while one blocklist is computed, and the
 * §5 question asked of every candidate line: would a search of this value come back
 * `false_positive`? The same rules as search, except `within` (docs/api.md §5: a
 * false-positive sub-range does not suppress a wider network):
 * - ip: an equal FP ip, or an FP cidr containing it;
 * - cidr: an equal FP cidr, or a wider FP cidr containing it;
 * - domain: an equal FP domain or an FP parent domain (an FP `example.com` removes `a.example.com`);
 * - url: an equal FP url or an FP url prefix at a `/`/`?` boundary, or its host as above;
 * - email: equal, or its domain as a domain; md5/sha1/sha256: equal.
 * Network containment is looked up, not scanned: the row's address is masked to each prefix
 * length the FP networks use, and the result looked up as a key.
 */
export class FalsePositiveSet {
  private readonly keys = new Set<string>();
  /** FP cidr prefix lengths present, per family (sorted ascending). */
  private readonly prefixes: Record<4 | 6, number[]> = { 4: [], 6: [] };

  get size(): number {
    return this.keys.size;
  }

  /** The FP values of one type. */
  valuesOf(type: IndicatorType): string[] {
    const prefix = `${type}\u0000`;
    const out: string[] = [];
    for (const k of this.keys) if (k.startsWith(prefix)) out.push(k.slice(prefix.length));
    return out;
  }

  add(type: IndicatorType, value: string): void {
    this.keys.add(`${type}\u0000${value}`);
    if (type === 'cidr') {
      const { family, prefix } = networkOf(value);
      const list = this.prefixes[family];
      if (!list.includes(prefix)) {
        list.push(prefix);
        list.sort((a, b) => a - b);
      }
    }
  }

  /** Whether the FalsePositive supplier suppresses this canonical value. */
  suppresses(type: IndicatorType, value: string): boolean {
    if (this.keys.size === 0) return false;
    switch (INDICATOR_TYPE_DEFINITIONS[type].falsePositive) {
      case 'network':
        return this.suppressesNetwork(type, value);
      case 'domain':
        return this.suppressesDomain(value);
      case 'url': {
        for (const p of urlPrefixes(value)) if (this.has(type, p)) return true;
        const host = urlHost(value);
        return host.type === 'ip'
          ? this.suppressesNetwork('ip', host.value)
          : this.suppressesDomain(host.value);
      }
      case 'email':
        return this.has(type, value) || this.suppressesDomain(emailDomain(value));
      case 'exact':
        return this.has(type, value);
    }
  }

  private has(type: IndicatorType, value: string): boolean {
    return this.keys.has(`${type}\u0000${value}`);
  }

  private suppressesDomain(domain: string): boolean {
    for (const d of domainCandidates(domain)) if (this.has('domain', d)) return true;
    return false;
  }

  private suppressesNetwork(type: IndicatorType, value: string): boolean {
    if (this.has(type, value)) return true;
    const { family, address, prefix } = networkOf(value);
    const wider = this.prefixes[family].filter((p) => p < prefix);
    if (wider.length === 0) return false;
    const bytes = ipaddr.parse(address).toByteArray();
    for (const p of wider) {
      if (this.has('cidr', `${maskedAddress(bytes, p)}/${p}`)) return true;
    }
    return false;
  }
}

/** The network address of `bytes` at prefix length `p`, in canonical text. */
function maskedAddress(bytes: number[], p: number): string {
  const masked = bytes.map((b, i) => {
    const keep = Math.min(8, Math.max(0, p - i * 8));
    return keep === 8 ? b : b & ((0xff << (8 - keep)) & 0xff);
  });
  return ipaddr.fromByteArray(masked).toString();
}
