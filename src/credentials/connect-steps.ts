import { ValidationError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type ConnectFlow, type ExpectedAccount } from './connect';
import { type GrantWriter, type ImportResult } from './grant-writer';
import { type PendingConnections, type PendingTicket } from './pending-connect';
import {
  type Account,
  isGrantRejected,
  type TokenEndpoint,
  type TokenResult,
} from './token-endpoint';
import { type CredentialKey } from './types';

export type ConnectOutcome =
  | {
      kind: 'confirm';
      key: CredentialKey;
      serviceName: string;
      account: { address: string; displayName: string };
      ticket: PendingTicket;
    }
  | {
      kind: 'mismatch';
      key: CredentialKey;
      serviceName: string;
      expected: string;
      actual: string;
    };

export interface CallbackQuery {
  state?: string;
  code?: string;
  error?: string;
  errorDescription?: string;
}

export interface ConfirmInput {
  confirmation: string;
  cookies: ReadonlyMap<string, string>;
  accept: boolean;
}

/** The three steps of connecting a mailbox: link, callback, the owner's confirmation. */
export interface ConnectSteps {
  /**
   * A connect link (the authorize URL): it seals the account expected to sign in, the login hint
   * or the account already behind the credential, so nobody else can attach or swap a mailbox.
   */
  connectUrl(
    key: CredentialKey,
    options?: { loginHint?: string; abortSignal?: AbortSignal },
  ): Promise<string>;
  /**
   * The OAuth callback: state check, code redemption and `GET /me`. Stores nothing: a mailbox that
   * matches the link waits for its owner's confirmation (`confirmConnect`).
   */
  beginConnect(
    query: CallbackQuery,
    options?: { abortSignal?: AbortSignal },
  ): Promise<ConnectOutcome>;
  /** The owner's confirmation POST: stores the pending mailbox, or drops it on cancel. */
  confirmConnect(
    input: ConfirmInput,
    options?: { abortSignal?: AbortSignal },
  ): Promise<(ImportResult & { address: string }) | { cancelled: CredentialKey }>;
}

export interface ConnectStepsOptions {
  connect: Pick<ConnectFlow, 'authorizeUrl' | 'consumeState' | 'redirectUri'>;
  pending: Pick<PendingConnections, 'create' | 'take'>;
  endpoint: () => Pick<TokenEndpoint, 'redeemCode' | 'me'>;
  writer: GrantWriter;
  scopes: readonly string[];
  serviceName(serviceId: string): string;
  log: Logger;
}

export const sameText = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Whether the signed-in account is the one a connect link was made for. */
export function isExpected(expected: ExpectedAccount, account: Account): boolean {
  if (expected.id !== undefined && expected.id !== account.id) return false;
  if (
    expected.address !== undefined &&
    !sameText(expected.address, account.address) &&
    !sameText(expected.address, account.userPrincipalName)
  ) {
    return false;
  }
  return true;
}

/** The callback's `error` as the field a caller reads: cancelled, or not completed. */
function signInFailed(error: string, description: string | undefined): ValidationError {
  const why =
    error === 'access_denied'
      ? 'the sign-in was cancelled or consent was not given'
      : 'the Microsoft sign-in did not complete';
  return new ValidationError({
    path: 'error',
    message: `${error}: ${why}${description ? ` (${description.slice(0, 300)})` : ''}`,
  });
}

const TICKET_REFUSED = {
  expired: 'has expired (confirm within 10 minutes); start the connection again',
  forged: 'does not belong to this browser session; start the connection again',
  unknown: 'is unknown or has already been used; start the connection again',
} as const;

export function createConnectSteps(options: ConnectStepsOptions): ConnectSteps {
  const { writer, log } = options;

  async function redeem(code: string, codeVerifier: string, abortSignal?: AbortSignal) {
    try {
      return await options
        .endpoint()
        .redeemCode(
          { code, codeVerifier, redirectUri: options.connect.redirectUri, scopes: options.scopes },
          abortSignal ? { abortSignal } : {},
        );
    } catch (error) {
      if (isGrantRejected(error)) {
        throw new ValidationError({
          path: 'code',
          message: `was rejected by the Microsoft identity platform: ${error.reason}`,
        });
      }
      throw error;
    }
  }

  return {
    /**
     * The link seals the account expected to sign in (the login hint, or the account already
     * behind the credential), so nobody else can attach or swap a mailbox.
     */
    async connectUrl(key, opts = {}) {
      const current = await writer.existing(key, opts.abortSignal);
      const account = current?.record.account;
      if (account && opts.loginHint && !sameText(opts.loginHint, account.address)) {
        throw new ValidationError({
          path: 'loginHint',
          message: `credential ${key.credentialId} is connected to another mailbox; DELETE it before connecting a different one`,
        });
      }
      const expected = {
        ...(account ? { id: account.id } : {}),
        ...(opts.loginHint ? { address: opts.loginHint } : {}),
      };
      return options.connect.authorizeUrl(key, {
        ...(opts.loginHint ? { loginHint: opts.loginHint } : {}),
        expected,
      });
    },

    /** Stores nothing: a mailbox that matches the link waits for its owner's confirmation. */
    async beginConnect(query, opts = {}) {
      if (!query.state) throw new ValidationError({ path: 'state', message: 'is required' });
      const state = await options.connect.consumeState(query.state);
      if (query.error) throw signInFailed(query.error, query.errorDescription);
      if (!query.code) throw new ValidationError({ path: 'code', message: 'is required' });
      const result: TokenResult = await redeem(query.code, state.codeVerifier, opts.abortSignal);
      const account = await options.endpoint().me(result.accessToken, opts);
      const serviceName = options.serviceName(state.key.serviceId);
      if (!isExpected(state.expected, account)) {
        log.warn('connect refused: another account signed in than the link was made for', {
          ...state.key,
        });
        return {
          kind: 'mismatch',
          key: state.key,
          serviceName,
          expected:
            state.expected.address ??
            (await writer.existing(state.key, opts.abortSignal))?.record.account.address ??
            'the mailbox already connected',
          actual: account.address,
        };
      }
      const ticket = await options.pending.create({ key: state.key, tokens: result, account });
      return {
        kind: 'confirm',
        key: state.key,
        serviceName,
        account: { address: account.address, displayName: account.displayName },
        ticket,
      };
    },

    async confirmConnect(input, opts = {}) {
      const taken = await options.pending.take(input.confirmation, input.cookies);
      if (!taken.ok) {
        throw new ValidationError({ path: 'confirmation', message: TICKET_REFUSED[taken.reason] });
      }
      const { key, tokens, account } = taken.pending;
      if (!input.accept) {
        log.info('connect cancelled by the mailbox owner', { ...key });
        return { cancelled: key };
      }
      return writer.write({ key, tokens, scopes: options.scopes, signedIn: account }, opts);
    },
  };
}
