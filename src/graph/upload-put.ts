import http from 'node:http';
import https from 'node:https';

/**
 * One request to a pre-authenticated upload URL through node:http(s), which hands the caller's
 * bytes to the socket as they are. fetch copies a Uint8Array body before it sends it (undici's
 * extractBody clones it; a stream body is buffered too), and those copies, a chunk's size each
 * PUT, stay in memory until a full collection: measured, 8 PUTs of 3.75 MiB grew a process by
 * 45 MiB through fetch and by none this way (docs/send.md, "Memory").
 */

export interface UploadAnswer {
  status: number;
  headers: Headers;
  /** The answer's text, cut at `MAX_ANSWER_BYTES` (Graph answers an upload with a little JSON). */
  text: string;
}

const MAX_ANSWER_BYTES = 64 * 1024;

function toHeaders(incoming: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

export interface UploadRequest {
  method: 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: Uint8Array;
  abortSignal?: AbortSignal | undefined;
}

/**
 * Sends one request and reads its answer. Rejects when the connection fails or closes before the
 * answer is complete, or when `abortSignal` aborts; never leaves an error without a listener.
 */
export function uploadRequest(url: URL, request: UploadRequest): Promise<UploadAnswer> {
  const { body } = request;
  return new Promise<UploadAnswer>((resolve, reject) => {
    const outgoing = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: request.method,
        headers: { ...request.headers, 'content-length': String(body?.byteLength ?? 0) },
        ...(request.abortSignal ? { signal: request.abortSignal } : {}),
      },
      (response) => {
        const parts: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size >= MAX_ANSWER_BYTES) return;
          parts.push(chunk);
          size += chunk.length;
        });
        response.on('error', reject);
        response.on('close', () => {
          if (!response.complete) {
            reject(new Error('The upload answer ended before it was complete.'));
            return;
          }
          resolve({
            status: response.statusCode ?? 0,
            headers: toHeaders(response.headers),
            text: Buffer.concat(parts).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
