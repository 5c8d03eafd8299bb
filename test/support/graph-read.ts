import { createLogger } from '../../src/core/logger';
import { type CredentialKey } from '../../src/credentials/types';
import { budgetSignal } from '../../src/core/abort';
import { createGraphFactory, type GraphAccess, type GraphFactory } from '../../src/graph/client';
import { type Sandbox } from '../../src/local/sandbox';

export const log = createLogger(() => undefined);
export const READ_SCOPES = ['offline_access', 'User.Read', 'Mail.ReadWrite'];

/**
 * The real Graph helper against a running sandbox, with tokens issued by the sandbox's identity
 * platform. Stands in for the credential layer: credential id = the user's UPN.
 */
export function sandboxGraph(
  sandbox: Sandbox,
  scopes: string[] = READ_SCOPES,
): GraphFactory<CredentialKey> {
  return createGraphFactory<CredentialKey>({
    graphBaseUrl: sandbox.url,
    tokens: {
      async getAccessToken(key): Promise<GraphAccess> {
        const user = sandbox.users.find((u) => u.userPrincipalName === key.credentialId);
        if (!user) throw new Error(`no sandbox user ${key.credentialId}`);
        const tokens = await sandbox.control.issueTokens(user.userPrincipalName, { scopes });
        return {
          accessToken: tokens.access_token,
          // The credential layer's view: scope names without the resource prefix.
          scopes: tokens.scope
            .split(' ')
            .map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//, '')),
          account: { id: user.id, address: user.mail, displayName: user.displayName },
        };
      },
    },
  });
}

export const readOptions = (budgetMs = 20_000, mailbox?: string) => ({
  abortSignal: budgetSignal(budgetMs),
  log,
  mailbox,
});
