import { NotFoundError, ReauthRequiredError } from '../../src/core/errors';
import { type CredentialKey } from '../../src/credentials/types';
import { type GraphAccess, type GraphTokenSource } from '../../src/graph/client';
import { type Sandbox } from '../../src/local/sandbox';
import { periodBefore } from '../../src/mail/report/period';
import { DEFINITION, EXPECTED, MESSAGES, PERIOD_END } from './report-scenario';
import { DEFAULT_SCOPES } from '../../src/config';

export const MAILBOX = 'adele@contoso.test';
export const RECIPIENT = 'megan@contoso.test';
/**
 * Stands in for the credential layer in service tests: credential ids map to sandbox users
 * (tokens issued by the sandbox's identity platform), `dead` needs reconnecting, others are unknown.
 */
export function sandboxTokens(
  sandbox: Sandbox,
  credentials: Record<string, string>,
): GraphTokenSource<CredentialKey> {
  return {
    async getAccessToken(key): Promise<GraphAccess> {
      if (key.credentialId === 'dead') throw new ReauthRequiredError(key.credentialId);
      const upn = credentials[key.credentialId];
      const user = sandbox.users.find((u) => u.userPrincipalName === upn);
      if (!user) throw new NotFoundError(`Credential ${key.credentialId}`);
      const tokens = await sandbox.control.issueTokens(user.userPrincipalName, {
        scopes: DEFAULT_SCOPES,
      });
      return {
        accessToken: tokens.access_token,
        scopes: DEFAULT_SCOPES,
        account: { id: user.id, address: user.mail, displayName: user.displayName },
      };
    },
  };
}

/** Whole days from the scenario's week to the week before today (UTC), so it becomes "last week". */
export function shiftToLastWeek(now = Date.now()): number {
  return periodBefore(now, DEFINITION.periodDays, 'UTC').end - PERIOD_END;
}

/**
 * Seeds the scenario into a sandbox mailbox, threaded as in the scenario: the first message of each
 * conversation starts it in the sandbox, the later ones (received or ours in Sent Items) join it by
 * its conversationId. Returns the sandbox conversationId of each scenario conversation.
 */
export function seedScenario(sandbox: Sandbox, upn: string, shiftMs: number): Map<string, string> {
  const conversations = new Map<string, string>();
  for (const m of MESSAGES) {
    const at = new Date(Date.parse(m.at) + shiftMs).toISOString();
    const conversationId = conversations.get(m.conversation);
    const added = sandbox.control.addMessage(upn, m.direction === 'sent' ? 'sentitems' : 'inbox', {
      subject: m.subject,
      from: { emailAddress: m.direction === 'sent' ? { address: upn } : m.from },
      toRecipients: m.to.map((address) => ({ emailAddress: { address } })),
      body: { contentType: 'text', content: 'Body text the report never reads.' },
      isRead: m.isRead,
      receivedDateTime: at,
      sentDateTime: at,
      ...(conversationId === undefined ? {} : { conversationId }),
    });
    conversations.set(m.conversation, String(added.conversationId));
  }
  return conversations;
}

/** The scenario's counts as the sandbox holds it: threaded like the scenario, so `EXPECTED`'s. */
export const SANDBOX_EXPECTED = {
  received: EXPECTED.received,
  sent: EXPECTED.sent,
  unread: EXPECTED.unread,
  conversations: EXPECTED.conversations,
  // G (since r8) and C (since r10) wait > 36 h; E's r6 is 1–25 h old whenever the run day the test runs.
  awaiting: EXPECTED.awaiting.length,
};
