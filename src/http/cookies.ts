/** Cookies are caller text: bounded, and held in a Map (a name never becomes an object key). */
const MAX_COOKIE_HEADER = 8 * 1024;
const MAX_COOKIES = 50;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header || header.length > MAX_COOKIE_HEADER) return cookies;
  for (const part of header.split(';').slice(0, MAX_COOKIES)) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (NAME.test(name) && /^[A-Za-z0-9_-]{0,200}$/.test(value)) cookies.set(name, value);
  }
  return cookies;
}

/**
 * A cookie only this app's `oauth` routes read: HttpOnly, SameSite=Strict (a cross-site form post
 * does not carry it), Secure on https.
 */
export function oauthCookie(
  name: string,
  value: string,
  options: { maxAgeSeconds: number; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    'Path=/api/oauth',
    `Max-Age=${options.maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
