/** A Key Vault service error: status, error code and message as the service sends them. */
export class KvError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly inner?: string,
  ) {
    super(message);
  }
}
