/**
 * Exchange counts a message as it travels: MIME, with attachments (and non-ASCII text) in base64,
 * about a third larger than the raw bytes, against limits in decimal megabytes (MaxSendSize: 35 MB by
 * default, 150 MB at most; Exchange Online limits, "Message size limits"). Checks here use an estimate
 * of that encoded size, so a message that passes is one Exchange will take.
 */

/** Exchange's "MB" in its size limits. */
export const MEGABYTE = 1_000_000;
/** Largest attachment, through an upload session ("150 MB", decimal). */
export const MAX_ATTACHMENT_BYTES = 150 * MEGABYTE;

/** Envelope headers (From, To, Subject, Date, Message-ID, MIME-Version, boundaries): a generous bound. */
const ENVELOPE_BYTES = 2_000;
/** One address in To/Cc/Bcc with its display name. */
const PER_RECIPIENT_BYTES = 100;
/** A MIME part's own headers (Content-Type with name, Content-Disposition, Content-ID, boundary). */
const PER_PART_BYTES = 400;
const LINE = 76;

/** Base64 with a CRLF after every 76 characters (RFC 2045). */
export function base64Bytes(raw: number): number {
  const chars = Math.ceil(raw / 3) * 4;
  return chars + 2 * Math.ceil(chars / LINE);
}

/** Whether text stays 7-bit ASCII (no code point above U+007F). */
export function isAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- the test is exactly "outside 7-bit ASCII"
  return !/[^\x00-\x7f]/.test(text);
}

/** Plain ASCII goes as quoted-printable (a soft break per line); anything else as base64. */
function encodedTextBytes(raw: number, ascii: boolean): number {
  return ascii ? raw + 3 * Math.ceil(raw / LINE) : base64Bytes(raw);
}

export interface MessageSize {
  /** Subject, body and attachment bytes as the caller gave them. */
  rawBytes: number;
  /** The estimated size of the MIME message Exchange checks against MaxSendSize. */
  encodedBytes: number;
}

export interface SizedMessage {
  subject: string;
  body: string;
  recipients: number;
  /** Raw byte sizes of the attachments. */
  attachments: readonly number[];
}

/** The message's raw and estimated encoded size. */
export function messageSize(message: SizedMessage): MessageSize {
  return measuredMessageSize({
    textBytes: Buffer.byteLength(message.subject, 'utf8') + Buffer.byteLength(message.body, 'utf8'),
    ascii: isAscii(message.subject) && isAscii(message.body),
    recipients: message.recipients,
    attachments: message.attachments,
  });
}

/** The same for text measured rather than held (a template row rendered only as a byte count). */
export function measuredMessageSize(message: {
  /** Subject and body together, in UTF-8 bytes. */
  textBytes: number;
  ascii: boolean;
  recipients: number;
  attachments: readonly number[];
}): MessageSize {
  let rawBytes = message.textBytes;
  let encodedBytes =
    ENVELOPE_BYTES +
    PER_RECIPIENT_BYTES * message.recipients +
    2 * PER_PART_BYTES +
    encodedTextBytes(message.textBytes, message.ascii);
  for (const size of message.attachments) {
    rawBytes += size;
    encodedBytes += attachmentEncodedBytes(size);
  }
  return { rawBytes, encodedBytes };
}

/** One attachment's share of the encoded message: its part headers and its base64. */
export function attachmentEncodedBytes(size: number): number {
  return PER_PART_BYTES + base64Bytes(size);
}

/** What a 413 says about a message over the limit: both sizes, and the limit in Exchange's terms. */
export function describeOverLimit(size: MessageSize, limitBytes: number): string {
  return (
    `The message would be about ${size.encodedBytes} bytes as Exchange counts it (MIME, attachments ` +
    `in base64) from ${size.rawBytes} raw bytes; the limit is ${limitBytes} bytes ` +
    `(MAX_MESSAGE_SIZE_MB=${limitBytes / MEGABYTE}, decimal megabytes).`
  );
}
