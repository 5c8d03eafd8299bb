import { type Outcome } from './retry';
import { type CallOptions, type Transport } from './transport';

/** A downloaded attachment: the bytes as they arrive, and what the server said about them. */
export interface AttachmentDownload {
  stream: ReadableStream<Uint8Array>;
  contentType: string;
  fileName: string | undefined;
  size: number | undefined;
}

export function fileNameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (extended) return decodeURIComponent(extended);
  return /filename="((?:[^"\\]|\\.)*)"/i.exec(disposition)?.[1]?.replace(/\\(.)/g, '$1');
}

/** A message's attachments: the list, and one's bytes as a stream. */
export function attachmentCalls({ api, call, answer }: Transport, credentialId: string) {
  const messagePath = (messageId: string) => ({ credentialId, messageId });
  return {
    listAttachments: (messageId: string, o?: CallOptions) =>
      call(
        (signal) =>
          api.GET('/credentials/{credentialId}/messages/{messageId}/attachments', {
            params: { path: messagePath(messageId) },
            signal,
          }),
        o,
      ).then((r) => r.attachments),
    /** The attachment's bytes as a stream (read it to the end or cancel it). */
    downloadAttachment: async (
      messageId: string,
      attachmentId: string,
      o?: CallOptions,
    ): Promise<AttachmentDownload> => {
      const { data, response } = await answer(
        (signal) =>
          api.GET(
            '/credentials/{credentialId}/messages/{messageId}/attachments/{attachmentId}/content',
            {
              params: { path: { credentialId, messageId, attachmentId } },
              parseAs: 'stream',
              signal,
            },
          ) as Promise<Outcome<ReadableStream<Uint8Array>>>,
        o,
      );
      const length = response.headers.get('content-length');
      return {
        stream: data,
        contentType: response.headers.get('content-type') ?? 'application/octet-stream',
        fileName: fileNameOf(response.headers.get('content-disposition')),
        size: length === null ? undefined : Number(length),
      };
    },
  };
}
