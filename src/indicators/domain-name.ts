import { domainToASCII } from 'node:url';
import { Outcome, quote } from './result';

const DOT = 0x2e;
const HYPHEN = 0x2d;
const UNDERSCORE = 0x5f;

/** ASCII characters allowed inside a label (input is lowercased first). */
const LABEL_CHAR = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-_') LABEL_CHAR[c.charCodeAt(0)] = 1;

/** Only these inputs need IDNA processing: non-ASCII, or A-labels whose punycode must be checked. */
const NEEDS_IDNA = /[\u0080-\uffff]|xn--/;
/**
 * ASCII characters that are never valid in a domain. They must be rejected before
 * domainToASCII sees the text: it implements the WHATWG host parser, which
 * percent-decodes, stops at "/" and rewrites numeric hosts instead of rejecting them.
 */
const INVALID_ASCII = /[^-.0-9_a-z\u0080-\uffff]/;

/** The label of `domain` that contains position `index`, for error messages. */
function labelAt(domain: string, index: number): string {
  const end = domain.indexOf('.', index);
  return domain.slice(domain.lastIndexOf('.', index) + 1, end === -1 ? domain.length : end);
}

function invalidChar(domain: string, index: number): string {
  const ch = String.fromCodePoint(domain.codePointAt(index) ?? 0);
  return `label ${quote(labelAt(domain, index))} contains invalid character ${quote(ch)}`;
}

/** Structural checks on an ASCII domain without trailing dot; returns a reason or null. */
function checkLabels(domain: string): string | null {
  if (domain.length === 0) return 'the domain is empty';
  if (domain.length > 253) return 'the domain is longer than 253 characters';
  let start = 0;
  let labels = 0;
  let allDigits = true;
  let underscore = false;
  for (let i = 0; i <= domain.length; i++) {
    const c = i === domain.length ? DOT : domain.charCodeAt(i);
    if (c !== DOT) {
      if (c >= 128 || LABEL_CHAR[c] === 0) return invalidChar(domain, i);
      if (c < 0x30 || c > 0x39) allDigits = false;
      if (c === UNDERSCORE) underscore = true;
      continue;
    }
    const len = i - start;
    if (len === 0) return 'it contains an empty label';
    if (len > 63) return `label ${quote(domain.slice(start, i))} is longer than 63 characters`;
    if (domain.charCodeAt(start) === HYPHEN) {
      return `label ${quote(domain.slice(start, i))} starts with a hyphen`;
    }
    if (domain.charCodeAt(i - 1) === HYPHEN) {
      return `label ${quote(domain.slice(start, i))} ends with a hyphen`;
    }
    labels++;
    if (i === domain.length) {
      // Underscores occur in real (malware) hostnames, but never in a top-level domain.
      if (allDigits) return `top-level label ${quote(domain.slice(start))} is numeric`;
      if (underscore) return `top-level label ${quote(domain.slice(start))} contains an underscore`;
    }
    start = i + 1;
    allDigits = true;
    underscore = false;
  }
  if (labels < 2) return `${quote(domain)} is a single label; a domain needs at least two`;
  return null;
}

/**
 * Canonicalises a domain name: lowercase, IDN -> punycode, one trailing dot removed,
 * labels validated. The reason omits the "not a valid domain" prefix so URL and email
 * validation can reuse it for their host / domain part.
 */
export function canonicalDomain(input: string): Outcome<string> {
  let domain = input.toLowerCase();
  if (NEEDS_IDNA.test(domain)) {
    const bad = INVALID_ASCII.exec(domain);
    if (bad) return { ok: false, reason: invalidChar(domain, bad.index) };
    const ascii = domainToASCII(domain); // '' when IDNA processing fails
    if (ascii === '') {
      return { ok: false, reason: `${quote(input)} is not a valid internationalised domain name` };
    }
    domain = ascii;
  }
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  const reason = checkLabels(domain);
  return reason === null ? { ok: true, value: domain } : { ok: false, reason };
}
