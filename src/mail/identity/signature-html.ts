import { createHash } from 'node:crypto';

import sanitizeHtml from 'sanitize-html';

/**
 * A signature's HTML cut down to what mail clients render alike and nothing that runs: text
 * formatting, links, tables for layout and images. No scripts, styles sheets, forms, frames,
 * event handlers or positioning; links only to http(s), mailto and tel; images only from the
 * message itself (`cid:`) or https. An image given as a `data:` URI becomes an inline attachment
 * referenced by `cid:`, as Outlook stores pasted images, so it is stored once and not repeated in
 * every body.
 */

const TAGS = [
  'a',
  'b',
  'strong',
  'i',
  'em',
  'u',
  's',
  'strike',
  'small',
  'big',
  'sub',
  'sup',
  'span',
  'font',
  'br',
  'p',
  'div',
  'hr',
  'blockquote',
  'center',
  'ul',
  'ol',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'table',
  'thead',
  'tbody',
  'tfoot',
  'tr',
  'td',
  'th',
  'img',
];

const CELL = ['colspan', 'rowspan', 'align', 'valign', 'width', 'height', 'bgcolor'];

const ANY = [/^[^;:<>"'\\()]*$/];
const LENGTH = [/^-?\d+(\.\d+)?(px|pt|em|rem|%)?$/];
const COLOR = [/^#[0-9a-f]{3,8}$/i, /^[a-z]{3,20}$/i, /^rgba?\(\s*[\d\s,.%]+\)$/i];
/** Presentational CSS only: nothing that positions, loads (url()) or hides content. */
const STYLES: Record<string, RegExp[]> = {
  color: COLOR,
  'background-color': COLOR,
  'font-family': ANY,
  'font-size': LENGTH,
  'font-weight': [/^(normal|bold|bolder|lighter|\d{3})$/],
  'font-style': [/^(normal|italic|oblique)$/],
  'text-decoration': [/^(none|underline|line-through|overline)$/],
  'text-align': [/^(left|right|center|justify)$/],
  'vertical-align': [/^(top|middle|bottom|baseline)$/],
  'line-height': LENGTH,
  width: LENGTH,
  height: LENGTH,
  margin: [/^(-?\d+(\.\d+)?(px|pt|em|%)?\s*){1,4}$/],
  padding: [/^(\d+(\.\d+)?(px|pt|em|%)?\s*){1,4}$/],
  border: [/^[\w\s#.,-]*$/],
  'border-collapse': [/^(collapse|separate)$/],
};

export const MAX_SIGNATURE_HTML_BYTES = 64 * 1024;
export const MAX_SIGNATURE_IMAGES = 10;
export const MAX_SIGNATURE_IMAGE_BYTES = 1024 * 1024;

export interface SignatureImage {
  contentId: string;
  name: string;
  contentType: string;
  bytes: Buffer;
}

export interface SanitizedSignature {
  html: string;
  /** Images taken out of `data:` URIs, each once (content-addressed content id). */
  images: SignatureImage[];
  /** `cid:` references left in the HTML, lower-cased. */
  contentIds: string[];
}

const DATA_IMAGE = /^data:(image\/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/]+={0,2})$/i;

export function sanitizeSignatureHtml(html: string): SanitizedSignature {
  const images = new Map<string, SignatureImage>();
  const contentIds = new Set<string>();
  const clean = sanitizeHtml(html, {
    allowedTags: TAGS,
    allowedAttributes: {
      '*': ['style', 'align', 'dir', 'title'],
      a: ['href', 'name'],
      img: ['src', 'alt', 'width', 'height', 'border'],
      font: ['color', 'face', 'size'],
      table: ['width', 'cellpadding', 'cellspacing', 'border', 'bgcolor'],
      td: CELL,
      th: CELL,
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['cid', 'https'] },
    allowProtocolRelative: false,
    allowedStyles: { '*': STYLES },
    disallowedTagsMode: 'discard',
    transformTags: {
      img: (tagName, attribs) => {
        const src = (attribs.src ?? '').replace(/\s+/g, '');
        const data = DATA_IMAGE.exec(src);
        if (data) {
          const bytes = Buffer.from(data[2]!, 'base64');
          const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
          const contentId = `sig-${hash}@signature`;
          const type = data[1]!.toLowerCase();
          images.set(contentId, {
            contentId,
            name: `signature-${hash}.${type.split('/')[1]}`,
            contentType: type,
            bytes,
          });
          return { tagName, attribs: { ...attribs, src: `cid:${contentId}` } };
        }
        if (/^cid:/i.test(src)) contentIds.add(src.slice(4).toLowerCase());
        return { tagName, attribs };
      },
    },
  });
  for (const id of images.keys()) contentIds.delete(id.toLowerCase());
  return { html: clean.trim(), images: [...images.values()], contentIds: [...contentIds] };
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  nbsp: ' ',
  '#39': "'",
};

/** The signature as plain text for text bodies when none was given: lines kept, tags dropped. */
export function signatureText(html: string): string {
  const lines = html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|tr|li|h[1-6]|table|blockquote)>/gi, '\n')
    .replace(/<\/t[dh]>/gi, ' ');
  const text = sanitizeHtml(lines, { allowedTags: [], allowedAttributes: {} });
  return text
    .replace(/&(amp|lt|gt|quot|nbsp|#39);/g, (_m, name: string) => ENTITIES[name]!)
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
