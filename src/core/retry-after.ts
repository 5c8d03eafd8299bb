/** Anything with a case-insensitive header lookup: fetch `Headers`, the Azure SDK's `HttpHeaders`. */
export interface HeaderLookup {
  get(name: string): string | null | undefined;
}

/**
 * Retry-After in ms: Graph and the identity platform send (fractional) seconds, RFC 9110 also
 * allows an HTTP date. Undefined when absent or unreadable; never negative.
 */
export function retryAfterMs(headers: HeaderLookup): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
