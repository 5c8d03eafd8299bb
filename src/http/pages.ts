/**
 * The few HTML pages a person sees (the connect flow): one accessible shell, no script, so they
 * work without JavaScript; nothing from a query is shown without escaping.
 */
export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No script at all; forms post only here; never framed (a framed Confirm button is clickjacking).
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The callback URL carried the code and state: never hand it to another site.
  'referrer-policy': 'no-referrer',
} as const;

export type PageTone = 'ask' | 'ok' | 'stop';

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5b5b66;--bg:#f6f7f9;--card:#fff;--line:#d9dce3;--accent:#0f5fc4;--ok:#1a7f37;--stop:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#ececf1;--muted:#a8a8b3;--bg:#15161a;--card:#1f2026;--line:#33353d;--accent:#6ea8ff;--ok:#4ac26b;--stop:#ff7b72}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:34rem;margin:8vh auto;padding:2rem 2rem 1.5rem;background:var(--card);border:1px solid var(--line);border-radius:12px;border-top:6px solid var(--accent)}
main.ok{border-top-color:var(--ok)}main.stop{border-top-color:var(--stop)}
h1{font-size:1.45rem;line-height:1.3;margin:0 0 1rem}
p{margin:.75rem 0}.muted{color:var(--muted);font-size:.9rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:1.25rem 0;padding:1rem;border:1px solid var(--line);border-radius:8px}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere;font-weight:600}
code{font:.9em ui-monospace,SFMono-Regular,Consolas,monospace;overflow-wrap:anywhere}
form{display:flex;flex-wrap:wrap;gap:.75rem;margin:1.5rem 0 .5rem}
button{font:inherit;font-weight:600;padding:.65rem 1.2rem;border-radius:8px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
@media (prefers-color-scheme:dark){button.primary{color:#0b0c0f}}
button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
ul{padding-left:1.25rem}
`;

/** A whole page: `lang`, a title equal to the one `h1`, a `main` landmark. `body` is trusted HTML. */
export function page(title: string, body: string, tone: PageTone = 'ask'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head><body><main class="${tone}"><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`;
}
