import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

import { azureSdk } from '../core/azure-sdk';
import { UpstreamError, ValidationError } from '../core/errors';
import { type StorageClients, storageStatus } from '../storage';
import { type AppKeys, type CredentialKey } from './types';

/**
 * The auth-code + PKCE connect flow's `state`: encrypted (it carries the PKCE verifier) and
 * HMAC-signed with keys derived from the data key, valid 10 minutes, usable once.
 */
export const STATE_LIFETIME_MS = 10 * 60_000;

export interface UsedStateStore {
  /** True the first time an id is presented, false on every replay. */
  consume(id: string, expiresAt: number): Promise<boolean>;
  /** Forgets ids whose state has expired anyway (the keep-alive timer calls it). */
  prune(): Promise<number>;
}

export function createMemoryStateStore(): UsedStateStore {
  const used = new Map<string, number>();
  return {
    consume(id, expiresAt) {
      const now = Date.now();
      for (const [k, exp] of used) if (exp < now) used.delete(k);
      if (used.has(id)) return Promise.resolve(false);
      used.set(id, expiresAt);
      return Promise.resolve(true);
    },
    prune() {
      const now = Date.now();
      let n = 0;
      for (const [k, exp] of used) if (exp < now && used.delete(k)) n++;
      return Promise.resolve(n);
    },
  };
}

/** Used state ids in a table, so a state replayed against another instance is refused too. */
export function createTableStateStore(storage: StorageClients): UsedStateStore {
  return {
    async consume(id, expiresAt) {
      try {
        const table = await storage.table('oauthstates');
        await table.createEntity({ partitionKey: 'state', rowKey: id, expiresAt });
        return true;
      } catch (error) {
        if (storageStatus(error) === 409) return false;
        throw new UpstreamError('store_unavailable', 'Could not record the OAuth state.', {
          cause: error,
        });
      }
    },
    async prune() {
      const table = await storage.table('oauthstates');
      let n = 0;
      const expired = table.listEntities<{ expiresAt: number }>({
        queryOptions: {
          filter: azureSdk.dataTables()
            .odata`PartitionKey eq 'state' and expiresAt lt ${Date.now()}`,
        },
      });
      for await (const entity of expired) {
        await table.deleteEntity(entity.partitionKey!, entity.rowKey!);
        n++;
      }
      return n;
    },
  };
}

/** Who may complete a connect link, when known: its login hint, or the credential's current account. */
export interface ExpectedAccount {
  /** Entra object id of the account already behind the credential. */
  id?: string;
  /** Mailbox address or sign-in name (`loginHint`). */
  address?: string;
}

export interface ConnectState {
  id: string;
  key: CredentialKey;
  codeVerifier: string;
  expiresAt: number;
  expected: ExpectedAccount;
}

/** Why a state was refused: the page a browser sees differs (expired link vs. anything else). */
export type StateProblem = 'malformed' | 'forged' | 'unreadable' | 'expired' | 'used';

export class ConnectStateError extends ValidationError {
  constructor(
    readonly problem: StateProblem,
    message: string,
  ) {
    super({ path: 'state', message });
  }
}

export interface ConnectFlow {
  readonly redirectUri: string;
  /** The Microsoft authorize URL for this credential. */
  authorizeUrl(
    key: CredentialKey,
    options?: { loginHint?: string; expected?: ExpectedAccount },
  ): Promise<string>;
  /** Checks signature and expiry and marks the state used; throws ConnectStateError. */
  consumeState(state: string): Promise<ConnectState>;
  /** Drops remembered state ids that have expired. */
  pruneStates(): Promise<number>;
}

export interface ConnectFlowOptions {
  appKeys: AppKeys;
  authorizeEndpoint: string;
  clientId: () => string;
  publicBaseUrl: string;
  scopes: readonly string[];
  states: UsedStateStore;
  /** `prompt` sent to /authorize, so a browser signed in to Microsoft 365 never connects silently. */
  prompt: 'select_account' | 'consent';
}

interface StatePayload {
  i: string;
  s: string;
  c: string;
  v: string;
  e: number;
  /** Expected account: object id and/or address. */
  x?: { i?: string; a?: string };
}

export function createConnectFlow(options: ConnectFlowOptions): ConnectFlow {
  const redirectUri = `${options.publicBaseUrl}/api/oauth/callback`;
  const keys = async () => ({
    mac: await options.appKeys.hmacKey('oauth-state'),
    enc: await options.appKeys.hmacKey('oauth-state-encryption'),
  });

  return {
    redirectUri,
    pruneStates: () => options.states.prune(),
    async authorizeUrl(key, opts = {}) {
      const { mac, enc } = await keys();
      const codeVerifier = randomBytes(32).toString('base64url');
      const expected = {
        ...(opts.expected?.id ? { i: opts.expected.id } : {}),
        ...(opts.expected?.address ? { a: opts.expected.address } : {}),
      };
      const payload: StatePayload = {
        i: randomBytes(16).toString('base64url'),
        s: key.serviceId,
        c: key.credentialId,
        v: codeVerifier,
        e: Date.now() + STATE_LIFETIME_MS,
        ...(Object.keys(expected).length > 0 ? { x: expected } : {}),
      };
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', enc, iv);
      const sealed = Buffer.concat([
        iv,
        cipher.update(JSON.stringify(payload), 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]).toString('base64url');
      const state = `${sealed}.${createHmac('sha256', mac).update(sealed).digest('base64url')}`;
      const url = new URL(options.authorizeEndpoint);
      url.search = new URLSearchParams({
        client_id: options.clientId(),
        response_type: 'code',
        redirect_uri: redirectUri,
        response_mode: 'query',
        scope: options.scopes.join(' '),
        state,
        code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
        code_challenge_method: 'S256',
        prompt: options.prompt,
        ...(opts.loginHint ? { login_hint: opts.loginHint } : {}),
      }).toString();
      return url.toString();
    },
    async consumeState(state) {
      const { mac, enc } = await keys();
      const [sealed, signature, extra] = state.split('.');
      if (!sealed || !signature || extra !== undefined) {
        throw new ConnectStateError('malformed', 'is malformed');
      }
      const expected = createHmac('sha256', mac).update(sealed).digest();
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new ConnectStateError('forged', 'was not issued by this service or has been altered');
      }
      let parsed: StatePayload;
      try {
        const raw = Buffer.from(sealed, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', enc, raw.subarray(0, 12), {
          authTagLength: 16,
        });
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        parsed = JSON.parse(
          Buffer.concat([
            decipher.update(raw.subarray(12, raw.length - 16)),
            decipher.final(),
          ]).toString('utf8'),
        ) as StatePayload;
      } catch {
        throw new ConnectStateError('unreadable', 'cannot be read');
      }
      if (!(parsed.e > Date.now())) {
        throw new ConnectStateError(
          'expired',
          'has expired (a connect link is valid for 10 minutes); start again',
        );
      }
      if (!(await options.states.consume(parsed.i, parsed.e))) {
        throw new ConnectStateError('used', 'has already been used; start the connection again');
      }
      return {
        id: parsed.i,
        key: { serviceId: parsed.s, credentialId: parsed.c },
        codeVerifier: parsed.v,
        expiresAt: parsed.e,
        expected: {
          ...(parsed.x?.i ? { id: parsed.x.i } : {}),
          ...(parsed.x?.a ? { address: parsed.x.a } : {}),
        },
      };
    },
  };
}
