/** Body formats a reader may ask Graph for (`Prefer: outlook.body-content-type`). */
export type BodyFormat = 'text' | 'html';

/**
 * The `Prefer` header of every read: immutable ids always, so an id we hand out survives the
 * message being moved; the body format only when a body is returned.
 */
export function readPreferHeaders(bodyFormat?: BodyFormat): Record<string, string> {
  return {
    prefer:
      bodyFormat === undefined
        ? 'IdType="ImmutableId"'
        : `IdType="ImmutableId", outlook.body-content-type="${bodyFormat}"`,
  };
}
