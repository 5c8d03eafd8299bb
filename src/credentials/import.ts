import * as z from 'zod';

import { isErrorOf, UpstreamError, ValidationError } from '../core/errors';
import { emailAddress } from '../core/validators';
import { isGrantRejected, type TokenEndpoint, type TokenResult } from './token-endpoint';
import { withOfflineAccess } from './types';

/** `PUT credentials/{id}` body: strict, so a misspelt field is named instead of ignored. */
export const importBodySchema = z.strictObject({
  refreshToken: z.string().min(1, 'is required').max(16_384),
  /** Accepted for compatibility; the validating refresh supersedes it. */
  accessToken: z.string().min(1).max(16_384).optional(),
  tokenExpiry: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]).optional(),
  clientId: z.string().min(1).optional(),
  scopes: z
    .array(z.string().regex(/^\S{1,200}$/, 'must be a scope name'))
    .min(1)
    .max(50)
    .optional(),
  mailbox: emailAddress('must be a mailbox address (UPN)').optional(),
});
export type ImportInput = z.infer<typeof importBodySchema>;

/**
 * An imported refresh token is proved by spending it once: the app registration must be this
 * service's, and a token or scope the identity platform refuses is the caller's field to fix.
 */
export async function refreshForImport(
  endpoint: Pick<TokenEndpoint, 'clientId' | 'refresh'>,
  input: ImportInput,
  defaultScopes: readonly string[],
  options: { abortSignal?: AbortSignal } = {},
): Promise<{ result: TokenResult; scopes: string[] }> {
  if (
    input.clientId !== undefined &&
    input.clientId.toLowerCase() !== endpoint.clientId.toLowerCase()
  ) {
    throw new ValidationError({
      path: 'clientId',
      message: "must be this service's app registration (CLIENT_ID)",
    });
  }
  const scopes = withOfflineAccess(input.scopes ?? defaultScopes);
  try {
    return { result: await endpoint.refresh(input.refreshToken, scopes, options), scopes };
  } catch (error) {
    if (isGrantRejected(error)) {
      throw new ValidationError({
        path: 'refreshToken',
        message: `was rejected by the Microsoft identity platform: ${error.reason}`,
      });
    }
    if (isErrorOf(error, UpstreamError) && error.upstreamCode === 'invalid_scope') {
      throw new ValidationError({ path: 'scopes', message: error.message });
    }
    throw error;
  }
}
