// The PII detectors that scan free text in prediction payloads. Each shape is a linear-time pattern confirmed by a
// checksum or a parser where one exists, because a false positive on a numeric feature destroys monitoring data.
//
// Linear time: every quantifier is either bounded or followed by a character that ends it unambiguously, and each
// pattern starts with a lookbehind that lets it begin only where a token begins, so a 100 kB adversarial string
// costs a bounded number of steps per character.
//
// Deliberately not matched (precision over recall, see the notes at each pattern): 9 bare digits as an SSN, SSNs
// with spaces, card numbers outside the payment networks' prefixes (epoch times and compact timestamps are 13-16
// digits and would pass Luhn one time in ten), card numbers with mixed separators or glued to letters, IBANs with
// dashes, IPv4 octets with leading zeros, IPv6 without a digit ("cafe::beef"), North American numbers separated by
// spaces only ("555 123 4567"), international numbers that read as a signed decimal ("+1234.5678"), quoted or
// non-ASCII email addresses.
import ipaddr from 'ipaddr.js';
import { getCountrySpecifications, isValidIBAN } from 'ibantools';

export type DetectorName = 'email' | 'phone' | 'credit_card' | 'iban' | 'ip' | 'ssn';

/** Every detector, in the order they run: the strongest checks first, so IBAN, card and SSN win over phone. */
export const DETECTOR_NAMES: readonly DetectorName[] = Object.freeze(['email', 'iban', 'credit_card', 'ssn', 'ip', 'phone'] as const);

export const DETECTOR_TOKENS: Readonly<Record<DetectorName, string>> = Object.freeze({
  email: '<EMAIL>',
  phone: '<PHONE>',
  credit_card: '<CREDIT_CARD>',
  iban: '<IBAN>',
  ip: '<IP>',
  ssn: '<SSN>',
});

/** What a single pass over the text counted, so patterns that cannot match are never run. */
interface TextFeatures {
  length: number;
  digits: number;
  at: number;
  dashes: number;
  dots: number;
  colons: number;
  plus: number;
  parens: number;
}

interface Pattern {
  /** Global; shared between calls, which is safe because a scan is synchronous and never re-entered. */
  readonly re: RegExp;
  /** A necessary condition for a match, checked on the counts before the pattern runs. */
  readonly applies: (f: TextFeatures) => boolean;
  /** Length of the accepted prefix of a match, or 0 to reject it (the scan then resumes one character later). */
  readonly accept?: (match: string) => number;
}

export interface Detector {
  readonly name: DetectorName;
  readonly token: string;
  readonly patterns: readonly Pattern[];
}

// --- email -------------------------------------------------------------------------------------------------------
// local@domain.tld with the practical local-part characters. The local part starts only where its run starts, so
// "a".repeat(1e5) without "@" is one linear look, not one per position; labels are 1-63 characters, the TLD 2-63
// letters, and a label cannot contain the "." that ends it, so the domain splits one way only.
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}/g;

// --- IBAN --------------------------------------------------------------------------------------------------------
// Country code, check digits, then the BBAN either contiguous or in groups of 4 separated by single spaces. The
// pattern may run on into the next word ("... 7034 from"); acceptIban cuts the candidate at the country's length.
const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])/g;

const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  Object.entries(getCountrySpecifications()).flatMap(([code, spec]) => (spec.chars ? [[code, spec.chars] as const] : [])),
);

function acceptIban(match: string): number {
  const wanted = IBAN_LENGTHS.get(match.slice(0, 2).toUpperCase());
  if (wanted === undefined) return 0;
  let chars = 0;
  let end = 0;
  while (end < match.length && chars < wanted) {
    if (match[end] !== ' ') chars++;
    end++;
  }
  // The IBAN must end where a group ends, not inside a longer run of letters and digits.
  if (chars < wanted || (end < match.length && match[end] !== ' ')) return 0;
  return isValidIBAN(match.slice(0, end).replaceAll(' ', '').toUpperCase()) ? end : 0;
}

// --- credit card -------------------------------------------------------------------------------------------------
// 13-19 digits, bare or as a first group of 4 then groups of 3-6 with one consistent separator (4-4-4-4, 4-6-5,
// 4-4-4-4-3). Not a decimal's part ("0.4111..."), not glued to letters (identifiers such as "A4111...").
// The first digit is one isCardNumber accepts, so the retries inside a rejected grouped run fail at once.
const CARD = /(?<![A-Za-z0-9]|\d\.)(?:[2-6]\d{12,18}|[2-6]\d{3}([ -])\d{3,6}(?:\1\d{3,6}){1,4})(?![A-Za-z0-9]|\.\d)/g;

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Payment-network prefixes: 3-6 (Amex, Diners, JCB, Visa, Mastercard, Discover, UnionPay, Maestro), and from the
 * 2s only Mir (2200-2204) and Mastercard's 2221-2720. That leaves out epoch times in ms or us (13 or 16 digits
 * from 1...) and compact timestamps such as 20140301103008, which pass Luhn one time in ten.
 */
function isCardNumber(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  if (first === 2) {
    const iin = Number(digits.slice(0, 4));
    if (!((iin >= 2200 && iin <= 2204) || (iin >= 2221 && iin <= 2720))) return false;
  } else if (first < 3 || first > 6) {
    return false;
  }
  return luhnValid(digits);
}

function acceptCard(match: string): number {
  const sep = match[4];
  if (sep !== ' ' && sep !== '-') return isCardNumber(match) ? match.length : 0;
  // A grouped card may be followed by another group ("4111 1111 1111 1111 2024"): try the longest valid prefix.
  const groups = match.split(sep);
  for (let k = groups.length; k >= 3; k--) {
    const digits = groups.slice(0, k).join('');
    if (isCardNumber(digits)) return digits.length + k - 1;
  }
  return 0;
}

// --- US SSN ------------------------------------------------------------------------------------------------------
// AAA-GG-SSSS with dashes only, under the SSA rules (area not 000, 666 or 9xx; group not 00; serial not 0000).
// Nine bare digits are not matched: order numbers, ZIP+4 without dash, counts and ids look the same.
const SSN = /(?<![A-Za-z0-9]|\d-)(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![A-Za-z0-9]|-\d)/g;

// --- IP ----------------------------------------------------------------------------------------------------------
// IPv6 candidates are runs of hex digits, colons and dots with a colon in the first five characters, confirmed by
// ipaddr.js (full, "::"-compressed and IPv4-mapped forms). A candidate needs a digit, so "cafe::beef" and "a::b"
// stay; time-like "10:30" and "12:30:45" fail the parser. Zone ids ("%eth0") are left in place after the token.
const IPV6 = /(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:.]{2,45}(?![\w:]|\.\w)/g;

function acceptIpv6(match: string): number {
  const candidate = match.endsWith('.') ? match.slice(0, -1) : match; // a sentence's full stop
  // IPv6 has "::", or 7 colons, or 6 before an IPv4 tail: times like 10:30 and 12:30:45 stop here, before the
  // parser, which costs a microsecond on a rejection.
  const colons = candidate.split(':').length - 1;
  if (!candidate.includes('::') && colons !== 7 && !(colons === 6 && candidate.includes('.'))) return 0;
  return /\d/.test(candidate) && ipaddr.IPv6.isValid(candidate) ? candidate.length : 0;
}

// Dotted quads with octets 0-255 and no leading zeros, not part of a longer dotted run ("v1.2.3.4.5", "1.2.3.4.5").
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![A-Za-z0-9.])${OCTET}(?:\\.${OCTET}){3}(?![A-Za-z0-9]|\\.[A-Za-z0-9])`, 'g');

// --- phone -------------------------------------------------------------------------------------------------------
// International: "+" then digit runs joined by single spaces, dots or dashes, one run may sit in parentheses
// ("+1 (555) 123-4567", "+44 (0)20 7946 0958"); 8-15 digits in all (E.164). Every run must be introduced by a
// separator or a parenthesis, so there is exactly one way to split the digits and no backtracking blow-up.
const PHONE_INTERNATIONAL = /(?<![A-Za-z0-9+])\+\d+(?:[ .-]?\(\d+\)[ .-]?\d+|[ .-]\d+)*/g;

function acceptInternationalPhone(match: string): number {
  // Longest prefix ending after a digit run (not inside parentheses) with 8-15 digits, so a phone followed by
  // another number ("+44 20 7946 0958 1234") loses only the extra run.
  let best = 0;
  let digits = 0;
  for (const run of match.matchAll(/\d+/g)) {
    digits += run[0].length;
    const end = run.index + run[0].length;
    if (digits > 15) break;
    if (digits >= 8 && match[end] !== ')') best = end;
  }
  // "+1234.5678" is a signed decimal, not a phone number.
  return best > 0 && !/^\+\d+\.\d+$/.test(match.slice(0, best)) ? best : 0;
}

// North American: (555) 123-4567, 555-123-4567, 555.123.4567, with an optional leading "1-". A separator is
// required and must be the same throughout, so bare 10-digit numbers and mixed "555-123.4567" are not matched.
const PHONE_NANP =
  /(?<![A-Za-z0-9]|\d[.-])(?:\(\d{3}\) ?\d{3}-\d{4}|(?:1[.-])?\d{3}([.-])\d{3}\1\d{4})(?![A-Za-z0-9]|[.-]\d)/g;

const DETECTORS: Readonly<Record<DetectorName, Detector>> = {
  email: { name: 'email', token: DETECTOR_TOKENS.email, patterns: [{ re: EMAIL, applies: (f) => f.at > 0 && f.dots > 0 }] },
  iban: {
    name: 'iban',
    token: DETECTOR_TOKENS.iban,
    patterns: [{ re: IBAN, applies: (f) => f.length >= 15 && f.digits >= 2, accept: acceptIban }],
  },
  credit_card: {
    name: 'credit_card',
    token: DETECTOR_TOKENS.credit_card,
    patterns: [{ re: CARD, applies: (f) => f.digits >= 13, accept: acceptCard }],
  },
  ssn: { name: 'ssn', token: DETECTOR_TOKENS.ssn, patterns: [{ re: SSN, applies: (f) => f.digits >= 9 && f.dashes >= 2 }] },
  ip: {
    name: 'ip',
    token: DETECTOR_TOKENS.ip,
    // IPv6 first, so the IPv4 tail of "::ffff:192.0.2.1" is not taken on its own.
    patterns: [
      { re: IPV6, applies: (f) => f.colons >= 2 && f.digits >= 1, accept: acceptIpv6 },
      { re: IPV4, applies: (f) => f.dots >= 3 && f.digits >= 4 },
    ],
  },
  phone: {
    name: 'phone',
    token: DETECTOR_TOKENS.phone,
    patterns: [
      { re: PHONE_INTERNATIONAL, applies: (f) => f.plus > 0 && f.digits >= 8, accept: acceptInternationalPhone },
      { re: PHONE_NANP, applies: (f) => f.digits >= 10 && (f.dashes >= 1 || f.dots >= 2 || f.parens > 0) },
    ],
  },
};

/** The detectors to run, in DETECTOR_NAMES order whatever order `names` lists them in. */
export function selectDetectors(names: readonly DetectorName[]): readonly Detector[] {
  const wanted = new Set(names);
  return DETECTOR_NAMES.filter((n) => wanted.has(n)).map((n) => DETECTORS[n]);
}

/** Every detector needs a digit except email, which needs "@": most feature strings stop at this test. */
const MAY_HOLD_PII = /[0-9@]/;

/** A whole string that is an ISO 8601 date or timestamp, common in payloads and matched by no detector. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function textFeatures(text: string): TextFeatures {
  const f: TextFeatures = { length: text.length, digits: 0, at: 0, dashes: 0, dots: 0, colons: 0, plus: 0, parens: 0 };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) f.digits++;
    else if (c === 64) f.at++;
    else if (c === 45) f.dashes++;
    else if (c === 46) f.dots++;
    else if (c === 58) f.colons++;
    else if (c === 43) f.plus++;
    else if (c === 40) f.parens++;
  }
  return f;
}

function replacePattern(text: string, pattern: Pattern, detector: Detector, hits: Record<DetectorName, number>): string {
  const { re, accept } = pattern;
  re.lastIndex = 0;
  let out = '';
  let copied = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const length = accept ? accept(m[0]) : m[0].length;
    if (length > 0) {
      out += text.slice(copied, m.index) + detector.token;
      copied = m.index + length;
      re.lastIndex = copied;
      hits[detector.name]++;
    } else {
      re.lastIndex = m.index + 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Replaces every detected value with its detector's token, adding one to `hits[name]` per replacement. */
export function scrubText(text: string, detectors: readonly Detector[], hits: Record<DetectorName, number>): string {
  if (detectors.length === 0 || !MAY_HOLD_PII.test(text) || ISO_TIMESTAMP.test(text)) return text;
  // Tokens hold none of the characters counted, so counts taken once still bound what later patterns can find.
  const features = textFeatures(text);
  let out = text;
  for (const detector of detectors) {
    for (const pattern of detector.patterns) {
      if (!pattern.applies(features)) continue;
      out = replacePattern(out, pattern, detector, hits);
    }
  }
  return out;
}
