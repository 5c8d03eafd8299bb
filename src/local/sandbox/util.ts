import { createHash, randomBytes } from 'node:crypto';

/** Seeded PRNG (mulberry32): seed data and probabilistic faults must be reproducible from `seed`. */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Prng = () => number;

export function pick<T>(rnd: Prng, items: readonly T[]): T {
  const item = items[Math.floor(rnd() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A GUID from 16 PRNG bytes (seeded ids keep the seed data identical across runs). */
export function prngGuid(rnd: Prng): string {
  const hex = Array.from({ length: 16 }, () =>
    Math.floor(rnd() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Exchange-style ids: standard base64 (so they contain `=`, `+`→`-`, `/`→`_` like real REST ids),
 * derived from a prefix that tells the id kind apart. Real ids are opaque; clients must escape them.
 */
export function exchangeId(prefix: string, material: string): string {
  const digest = createHash('sha256').update(material).digest();
  const b64 = Buffer.concat([Buffer.from(prefix, 'base64'), digest.subarray(0, 30)]).toString(
    'base64',
  );
  return b64.replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Structured Exchange-style id without hashing (seeding 100k+ messages must stay fast): prefix,
 * mailbox GUID bytes and a counter, base64 like real REST ids (which embed the mailbox GUID too).
 */
const guidBytes = new Map<string, Buffer>();

export function structuredId(prefix: Buffer, mailboxGuid: string, ...numbers: number[]): string {
  let guid = guidBytes.get(mailboxGuid);
  if (!guid) guidBytes.set(mailboxGuid, (guid = Buffer.from(mailboxGuid.replace(/-/g, ''), 'hex')));
  const buf = Buffer.allocUnsafe(prefix.length + 16 + numbers.length * 4);
  prefix.copy(buf, 0);
  guid.copy(buf, prefix.length);
  numbers.forEach((n, i) => buf.writeUInt32BE(n >>> 0, prefix.length + 16 + i * 4));
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export function opaqueToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Graph serialises timestamps without fractional seconds: `2026-01-02T03:04:05Z`. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Renders an untrusted JSON value for messages and comparisons (objects as JSON, not `[object Object]`). */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === null ||
    value === undefined
  )
    return String(value);
  return JSON.stringify(value);
}

/** decodeURIComponent that returns null for malformed escapes instead of throwing. */
export function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}
