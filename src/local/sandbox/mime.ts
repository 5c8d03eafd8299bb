import { GraphError } from './errors';
import type { Recipient, StoredAttachment, StoredMessage } from './store';

const addressList = (rs: readonly Recipient[]): string =>
  rs
    .map((r) =>
      r.emailAddress.name
        ? `${r.emailAddress.name} <${r.emailAddress.address}>`
        : r.emailAddress.address,
    )
    .join(', ');

const wrap76 = (b64: string): string => b64.replace(/.{1,76}/g, '$&\r\n').trimEnd();

/** RFC 5322/MIME rendering of a stored message (`/$value`, itemAttachment `$value`). */
export function renderMime(m: StoredMessage): string {
  const boundary = `_sandbox_${m.key}_`;
  const headers = [
    ...(m.from ? [`From: ${addressList([m.from])}`] : []),
    ...(m.sender && m.sender.emailAddress.address !== m.from?.emailAddress.address
      ? [`Sender: ${addressList([m.sender])}`]
      : []),
    `To: ${addressList(m.toRecipients)}`,
    ...(m.ccRecipients.length ? [`Cc: ${addressList(m.ccRecipients)}`] : []),
    `Subject: ${m.subject}`,
    `Date: ${new Date(m.sentMs ?? m.createdMs).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${m.internetMessageId}`,
    ...m.internetMessageHeaders.map((h) => `${h.name}: ${h.value}`),
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
  ];
  const bodyType = m.body.contentType === 'html' ? 'text/html' : 'text/plain';
  const parts = [
    `--${boundary}\r\nContent-Type: ${bodyType}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap76(Buffer.from(m.body.content).toString('base64'))}`,
    ...m.attachments.map((a: StoredAttachment) =>
      a.kind === 'item'
        ? `--${boundary}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n${a.bytes.toString('utf8')}`
        : `--${boundary}\r\nContent-Type: ${a.contentType ?? 'application/octet-stream'}; name="${a.name}"\r\nContent-Disposition: ${a.isInline ? 'inline' : 'attachment'}; filename="${a.name}"; size=${a.bytes.length}\r\n${a.contentId ? `Content-ID: <${a.contentId}>\r\n` : ''}Content-Transfer-Encoding: base64\r\n\r\n${wrap76(a.bytes.toString('base64'))}`,
    ),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${parts.join('\r\n\r\n')}\r\n\r\n--${boundary}--\r\n`;
}

export interface ParsedMime {
  subject: string;
  from: Recipient | null;
  to: Recipient[];
  cc: Recipient[];
  bcc: Recipient[];
  body: { contentType: 'text' | 'html'; content: string };
  attachments: Array<{ name: string; contentType: string; bytes: Buffer }>;
}

function parseAddresses(value: string | undefined): Recipient[] {
  if (!value) return [];
  return value
    .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^"?([^"<]*?)"?\s*<([^>]+)>$/.exec(s);
      return m
        ? { emailAddress: { name: m[1]!.trim() || m[2]!, address: m[2]!.trim() } }
        : { emailAddress: { address: s } };
    });
}

function splitHeaders(raw: string): [Map<string, string>, string] {
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep < 0 ? raw : raw.slice(0, sep);
  const body = sep < 0 ? '' : raw.slice(sep).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  let last = '';
  for (const line of head.split(/\r?\n/)) {
    if (/^\s/.test(line) && last) headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
    else {
      const i = line.indexOf(':');
      if (i > 0) {
        last = line.slice(0, i).trim().toLowerCase();
        headers.set(last, line.slice(i + 1).trim());
      }
    }
  }
  return [headers, body];
}

function decodePart(body: string, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (enc === 'quoted-printable') {
    return Buffer.from(
      body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    );
  }
  return Buffer.from(body, 'utf8');
}

/**
 * Decodes a base64 MIME request body (sendMail / create draft with `Content-Type: text/plain`).
 * Invalid base64 → 400 ErrorMimeContentInvalidBase64String, as documented.
 */
export function parseBase64Mime(payload: string): ParsedMime {
  const compact = payload.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new GraphError(
      400,
      'ErrorMimeContentInvalidBase64String',
      'Invalid base64 string for MIME content.',
    );
  }
  const raw = Buffer.from(compact, 'base64').toString('utf8');
  const [headers, body] = splitHeaders(raw);
  if (
    !headers.has('from') &&
    !headers.has('to') &&
    !headers.has('subject') &&
    !headers.has('content-type')
  ) {
    throw new GraphError(400, 'ErrorMimeContentInvalid', 'The MIME content is invalid.');
  }
  const result: ParsedMime = {
    subject: headers.get('subject') ?? '',
    from: parseAddresses(headers.get('from'))[0] ?? null,
    to: parseAddresses(headers.get('to')),
    cc: parseAddresses(headers.get('cc')),
    bcc: parseAddresses(headers.get('bcc')),
    body: { contentType: 'text', content: '' },
    attachments: [],
  };
  const walk = (partHeaders: Map<string, string>, partBody: string): void => {
    const type = partHeaders.get('content-type') ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (type.toLowerCase().startsWith('multipart/') && boundary) {
      const pieces = partBody.split(`--${boundary}`).slice(1);
      for (const piece of pieces) {
        if (piece.startsWith('--')) break;
        const [h, b] = splitHeaders(piece.replace(/^\r?\n/, ''));
        walk(h, b);
      }
      return;
    }
    const disposition = partHeaders.get('content-disposition') ?? '';
    const bytes = decodePart(partBody, partHeaders.get('content-transfer-encoding'));
    const name =
      /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? /name="?([^";]+)"?/i.exec(type)?.[1];
    if (/^attachment/i.test(disposition) || (name && !type.toLowerCase().startsWith('text/'))) {
      result.attachments.push({
        name: name ?? 'attachment',
        contentType: type.split(';')[0]!.trim(),
        bytes,
      });
    } else if (type.toLowerCase().startsWith('text/html')) {
      result.body = { contentType: 'html', content: bytes.toString('utf8') };
    } else if (type.toLowerCase().startsWith('text/') && result.body.content === '') {
      result.body = { contentType: 'text', content: bytes.toString('utf8') };
    } else if (name) {
      result.attachments.push({ name, contentType: type.split(';')[0]!.trim(), bytes });
    }
  };
  walk(headers, body);
  return result;
}

export function isMimeRequest(contentType: string | undefined): boolean {
  return (contentType ?? '').toLowerCase().startsWith('text/plain');
}

const MAGIC: Array<[string, string]> = [
  ['R0lGOD', 'image/gif'],
  ['iVBORw0KGgo', 'image/png'],
  ['/9j/', 'image/jpeg'],
  ['JVBERi0', 'application/pdf'],
];
const EXTENSIONS: Record<string, string> = {
  txt: 'text/plain',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  csv: 'text/csv',
  html: 'text/html',
  json: 'application/json',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** Exchange fills contentType from the bytes or the file name when the client gives none. */
export function guessContentType(name: string, base64: string): string {
  const magic = MAGIC.find(([prefix]) => base64.startsWith(prefix));
  if (magic) return magic[1];
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  return (ext && EXTENSIONS[ext]) ?? 'application/octet-stream';
}
