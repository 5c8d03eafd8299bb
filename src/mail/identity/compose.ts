import { randomBytes } from 'node:crypto';

/**
 * Where a signature goes in a body, the way Outlook puts it: in HTML a block of its own after the
 * text and before any quoted original (Outlook's `appendonsend` / `divRplyFwdMsg` markers), in
 * text after the `-- ` delimiter line (RFC 3676 §4.3) and before Outlook's original-message line.
 * A template may place it itself with `{{signature}}`, which renders as SIGNATURE_SLOT.
 */

/**
 * What `{{signature}}` renders to until the send path puts the signature there. Random per
 * process and never in a caller's text: render and send happen in the same process, and the
 * slot is always replaced (by nothing when no signature is sent) before anything leaves.
 */
export const SIGNATURE_SLOT = `\u2063omf-signature-${randomBytes(12).toString('hex')}\u2063`;

export interface SignatureBlock {
  html: string;
  text: string;
}

const HTML_QUOTE_MARKERS = [
  /<div\s[^>]*id=["']?appendonsend/i,
  /<[a-z]+\s[^>]*id=["']?divRplyFwdMsg/i,
];
const TEXT_QUOTE_MARKERS = [/^-{3,}\s*Original Message\s*-{3,}\s*$/m, /^_{20,}\s*$/m];

function firstIndex(body: string, markers: RegExp[]): number {
  const found = markers.map((m) => body.search(m)).filter((i) => i >= 0);
  return found.length > 0 ? Math.min(...found) : -1;
}

export function htmlSignatureBlock(html: string): string {
  return `<div id="Signature" style="margin-top:1em">${html}</div>`;
}

export function textSignatureBlock(text: string, newline: string): string {
  return `${newline}${newline}-- ${newline}${text.replace(/\r?\n/g, newline)}`;
}

/** Inserts `block` before the quoted original, else before `</body>`, else at the end. */
function insertHtml(body: string, block: string): string {
  let at = firstIndex(body, HTML_QUOTE_MARKERS);
  if (at < 0) at = body.search(/<\/body\s*>/i);
  if (at < 0) return `${body}${block}`;
  return `${body.slice(0, at)}${block}${body.slice(at)}`;
}

function insertText(body: string, block: string, newline: string): string {
  const at = firstIndex(body, TEXT_QUOTE_MARKERS);
  if (at < 0) return `${body.replace(/\s+$/, '')}${block}`;
  const before = body.slice(0, at).replace(/\s+$/, '');
  return `${before}${block}${newline}${newline}${body.slice(at)}`;
}

/**
 * The body with the signature where it belongs: at the template's slot when there is one,
 * otherwise appended Outlook's way; `signature` undefined removes the slot and adds nothing.
 */
export function placeSignature(
  body: string,
  contentType: 'text' | 'html',
  signature: SignatureBlock | undefined,
): string {
  const newline = body.includes('\r\n') ? '\r\n' : '\n';
  const block =
    signature === undefined
      ? ''
      : contentType === 'html'
        ? htmlSignatureBlock(signature.html)
        : textSignatureBlock(signature.text, newline);
  if (body.includes(SIGNATURE_SLOT)) {
    const first = body.indexOf(SIGNATURE_SLOT);
    const rest = body
      .slice(first + SIGNATURE_SLOT.length)
      .split(SIGNATURE_SLOT)
      .join('');
    // A text slot carries the delimiter itself, without the blank lines before it.
    const placed = contentType === 'text' ? block.replace(/^(\r?\n)+/, '') : block;
    return `${body.slice(0, first)}${placed}${rest}`;
  }
  if (signature === undefined) return body;
  return contentType === 'html' ? insertHtml(body, block) : insertText(body, block, newline);
}
