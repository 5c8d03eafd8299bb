import { ValidationError } from '../core/errors';
import { parseWith, readBodyBytes } from '../http/parse';
import { type Notifications } from '../notifications';
import { notificationCollectionSchema } from '../notifications/intake';
import { type HttpFunctionDefinition, type HttpInvocation } from '../http/definitions';

/** Graph's validation tokens are short texts; anything longer is not Graph. */
const MAX_VALIDATION_TOKEN = 1024;
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The documented handshake: Graph POSTs `?validationToken=…` and expects it back, URL-decoded, as
 * `text/plain` with 200 within 10 s. Nothing else is done for such a request.
 */
function handshake(request: HttpInvocation['request']) {
  const token = request.query.get('validationToken');
  if (token === null) return undefined;
  if (token.length === 0 || token.length > MAX_VALIDATION_TOKEN)
    throw new ValidationError({ path: 'query.validationToken', message: 'is not a Graph token' });
  return {
    status: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body: token,
  };
}

async function collection(request: HttpInvocation['request']): Promise<unknown[]> {
  const bytes = await readBodyBytes(request, MAX_BODY_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ValidationError({ path: 'body', message: 'is not a change notification collection' });
  }
  return parseWith(notificationCollectionSchema, parsed, 'body').value;
}

/**
 * `POST graph/notifications` and `POST graph/lifecycle` (anonymous: Graph calls them; each item is
 * authenticated by its subscription's clientState). They answer 202 within Graph's 3 s by only
 * checking and enqueueing; a failure to enqueue answers 5xx so that Graph retries.
 */
export function graphWebhookFunctions(
  notifications: () => Notifications,
): HttpFunctionDefinition[] {
  return (['notifications', 'lifecycle'] as const).map((kind): HttpFunctionDefinition => ({
    kind: 'http',
    name: kind === 'notifications' ? 'graphNotifications' : 'graphLifecycle',
    methods: ['POST'],
    route: `graph/${kind}`,
    auth: 'anonymous',
    maxBodyBytes: MAX_BODY_BYTES,
    async handler({ request, log }) {
      const answer = handshake(request);
      if (answer) return answer;
      const items = await collection(request);
      const intake = notifications().intake;
      await (kind === 'notifications'
        ? intake.changes(items, { log })
        : intake.lifecycle(items, { log }));
      return { status: 202 };
    },
  }));
}
