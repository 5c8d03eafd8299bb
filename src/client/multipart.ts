import { type PreparedAttachment } from './attachments';

const CRLF = '\r\n';

/**
 * A quoted-string parameter as browsers write form-data (HTML's multipart/form-data encoding):
 * `"`, CR and LF percent-encoded, the rest as UTF-8.
 */
function quoted(value: string): string {
  return `"${value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;
}

function partHeader(boundary: string, disposition: string, contentType: string): string {
  return `--${boundary}${CRLF}Content-Disposition: form-data; ${disposition}${CRLF}Content-Type: ${contentType}${CRLF}${CRLF}`;
}

/** The field name of the file part carrying attachment `index`. */
export const filePart = (index: number): string => `file${index}`;

/**
 * multipart/form-data with the `message` JSON part first, then one file part per attachment,
 * produced while the body is sent: at most one chunk of a file is held at a time.
 */
export function multipartBody(
  message: unknown,
  files: readonly PreparedAttachment[],
  boundary: string,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  async function* parts(): AsyncIterable<Uint8Array> {
    yield encoder.encode(
      partHeader(boundary, 'name="message"', 'application/json') + JSON.stringify(message) + CRLF,
    );
    for (const [index, file] of files.entries()) {
      yield encoder.encode(
        partHeader(
          boundary,
          `name="${filePart(index)}"; filename=${quoted(file.name)}`,
          file.contentType,
        ),
      );
      for await (const chunk of file.open()) yield chunk;
      yield encoder.encode(CRLF);
    }
    yield encoder.encode(`--${boundary}--${CRLF}`);
  }
  const iterator = parts()[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
