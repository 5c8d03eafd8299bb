import { beforeEach, describe, expect, it } from 'vitest';

import { SHARED_SCOPES, startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';
const SUPPORT = 'support@contoso.test';

describe('message actions end to end', () => {
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));
  const add = (subject: string, folder = 'inbox', upn = ADELE) =>
    stack.sandbox.control.addMessage(upn, folder, {
      subject,
      body: { contentType: 'text', content: subject },
      from: { emailAddress: { address: 'ian.obrien@adatum.example' } },
      toRecipients: [{ emailAddress: { address: upn } }],
    });
  const inFolder = (folder: string, upn = ADELE) =>
    stack.sandbox.control.messages(upn, folder).map((m) => m.immutableId);
  const json = (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) =>
    stack.api(`/api/credentials/c1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const problem = async (response: Response) => {
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    return (await response.json()) as {
      code: string;
      detail: string;
      errors?: Array<{ path: string }>;
    };
  };

  const stack = useStack(
    () => startTestStack({ storage: false }),
    async () => {
      await stack.connect('c1', {
        scopes: SHARED_SCOPES,
      });
    },
  );
  beforeEach(() => stack.sandbox.control.clearRequestLog());

  describe('PATCH messages/{messageId}', () => {
    it('marks read, flags with a due date, categorises and sets importance in one PATCH', async () => {
      const m = add('Patch me');
      const response = await json('PATCH', `/messages/${m.immutableId}`, {
        isRead: true,
        flag: { status: 'flagged', dueDateTime: '2030-01-31T17:00:00Z' },
        categories: ['Customers', 'Red'],
        importance: 'high',
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        id: m.immutableId,
        isRead: true,
        importance: 'high',
        categories: ['Customers', 'Red'],
        flag: { status: 'flagged', dueDateTime: '2030-01-31T17:00:00.000Z' },
      });
      // Graph wants a start with every due date: the product supplies one.
      expect((body.flag as { startDateTime: string | null }).startDateTime).not.toBeNull();
      const stored = stack.sandbox.control
        .messages(ADELE, 'inbox')
        .find((x) => x.immutableId === m.immutableId)!;
      expect(stored).toMatchObject({
        isRead: true,
        importance: 'high',
        categories: ['Customers', 'Red'],
      });
      expect(graphCalls().map((c) => c.method)).toEqual(['PATCH']);
    });

    it('answers 400 naming unknown fields and bad values, without calling Graph', async () => {
      const m = add('Bad patch');
      for (const [body, paths] of [
        [{ isRead: true, subject: 'x', colour: 'red' }, ['subject', 'colour']],
        [{}, ['(body)']],
        [{ flag: { status: 'later' } }, ['flag.status']],
        [
          { flag: { status: 'complete', dueDateTime: '2030-01-01T00:00:00Z' } },
          ['flag.dueDateTime'],
        ],
        [{ flag: { status: 'flagged', dueDateTime: '2030-01-01' } }, ['flag.dueDateTime']],
        [{ categories: [''] }, ['categories[0]']],
        [{ importance: 'urgent' }, ['importance']],
        [{ isRead: 'yes' }, ['isRead']],
      ] as const) {
        const response = await json('PATCH', `/messages/${m.immutableId}`, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        const errors = (await problem(response)).errors!.map((e) => e.path);
        expect(errors, JSON.stringify(body)).toEqual(expect.arrayContaining([...paths]));
      }
      expect(graphCalls()).toEqual([]);
    });

    it('answers 404 for a message that does not exist', async () => {
      const response = await json('PATCH', '/messages/AAkALgAAAAAAHYQDEapmEc2byACqAC-NOPE', {
        isRead: true,
      });
      expect(response.status).toBe(404);
      expect((await problem(response)).code).toBe('not_found');
    });
  });

  describe('move, copy and delete', () => {
    it('moves by display path, keeping the immutable id, and says ids are immutable', async () => {
      const m = add('Move me');
      const response = await json('POST', `/messages/${m.immutableId}/move`, {
        destination: 'inbox/projects/2026',
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      const folder = stack.sandbox.control
        .folders(ADELE)
        .find((f) => f.path === 'Inbox/Projects/2026')!;
      expect(body).toEqual({
        id: m.immutableId,
        sourceMessageId: m.immutableId,
        folderId: folder.id,
        idType: 'immutable',
      });
      expect(inFolder('Inbox/Projects/2026')).toContain(m.immutableId);
      expect(inFolder('inbox')).not.toContain(m.immutableId);
    });

    it('remembers resolved paths: a second move to the same path walks no folders', async () => {
      const a = add('Path cache A');
      const b = add('Path cache B');
      await json('POST', `/messages/${a.immutableId}/move`, { destination: 'Archive/2025' });
      stack.sandbox.control.clearRequestLog();
      await json('POST', `/messages/${b.immutableId}/move`, { destination: 'archive/2025' });
      expect(graphCalls().map((c) => c.path)).toEqual([`/v1.0/me/messages/${b.immutableId}/move`]);
    });

    it('answers 404 naming the missing segment of a path, before touching the message', async () => {
      const m = add('Nowhere');
      const response = await json('POST', `/messages/${m.immutableId}/move`, {
        destination: 'Inbox/Projects/2027',
      });
      expect(response.status).toBe(404);
      expect((await problem(response)).detail).toContain("'2027' under 'Inbox/Projects'");
      expect(graphCalls().some((c) => c.path.endsWith('/move'))).toBe(false);
      expect(inFolder('inbox')).toContain(m.immutableId);
    });

    it('copies to a well-known folder: 201 with a new id, the original stays', async () => {
      const m = add('Copy me');
      const response = await json('POST', `/messages/${m.immutableId}/copy`, {
        destination: 'Archive',
      });
      expect(response.status).toBe(201);
      const body = (await response.json()) as { id: string; sourceMessageId: string };
      expect(body.id).not.toBe(m.immutableId);
      expect(inFolder('archive')).toContain(body.id);
      expect(inFolder('inbox')).toContain(m.immutableId);
    });

    it('moves by folder id', async () => {
      const m = add('By id');
      const junk = stack.sandbox.control
        .folders(ADELE)
        .find((f) => f.wellKnownName === 'junkemail')!;
      const response = await json('POST', `/messages/${m.immutableId}/move`, {
        destination: junk.id,
      });
      expect(response.status).toBe(200);
      expect(inFolder('junkemail')).toContain(m.immutableId);
    });

    it('answers 400 for a missing or malformed destination without calling Graph', async () => {
      const m = add('Bad destination');
      for (const [body, path] of [
        [{}, 'destination'],
        [{ destination: 'Inbox//x' }, 'destination'],
        [{ destination: 'Archive', extra: 1 }, 'extra'],
      ] as const) {
        const response = await json('POST', `/messages/${m.immutableId}/move`, body);
        expect(response.status).toBe(400);
        expect((await problem(response)).errors!.map((e) => e.path)).toContain(path);
      }
      expect(graphCalls()).toEqual([]);
    });

    it('deletes to Deleted Items (204), or permanently with ?permanent=true', async () => {
      const soft = add('Delete me');
      const response = await stack.api(`/api/credentials/c1/messages/${soft.immutableId}`, {
        method: 'DELETE',
      });
      expect(response.status).toBe(204);
      expect(inFolder('deleteditems')).toContain(soft.immutableId);

      const hard = add('Purge me');
      stack.sandbox.control.clearRequestLog();
      const purged = await stack.api(
        `/api/credentials/c1/messages/${hard.immutableId}?permanent=true`,
        { method: 'DELETE' },
      );
      expect(purged.status).toBe(204);
      expect(graphCalls().map((c) => c.path)).toEqual([
        `/v1.0/me/messages/${hard.immutableId}/permanentDelete`,
      ]);
      const gone = await stack.api(`/api/credentials/c1/messages/${hard.immutableId}`);
      expect(gone.status).toBe(404);
    });

    it('acts on a shared mailbox with mailbox=', async () => {
      const m = add('Shared one', 'inbox', SUPPORT);
      const response = await json('POST', `/messages/${m.immutableId}/move?mailbox=${SUPPORT}`, {
        destination: 'archive',
      });
      expect(response.status).toBe(200);
      expect(inFolder('archive', SUPPORT)).toContain(m.immutableId);
      expect(graphCalls().map((c) => c.mailbox)).toEqual(graphCalls().map(() => SUPPORT));
    });
  });

  describe('POST messages/batch', () => {
    it('marks 45 messages read in 3 $batch requests, a bad id failing alone', async () => {
      const ids = Array.from({ length: 44 }, (_, i) => add(`Batch ${i}`).immutableId);
      const missing = 'AAkALgAAAAAAHYQDEapmEc2byACqAC-MISSING';
      const response = await json('POST', '/messages/batch', {
        action: 'markRead',
        messageIds: [...ids.slice(0, 10), missing, ...ids.slice(10)],
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        done: number;
        failed: number;
        results: Array<{ messageId: string; status: string; error?: { code: string } }>;
      };
      expect(body.done).toBe(44);
      expect(body.failed).toBe(1);
      expect(body.results[10]).toMatchObject({
        messageId: missing,
        status: 'failed',
        error: { code: 'not_found' },
      });
      const outer = graphCalls().filter((c) => !c.inBatch);
      expect(outer.map((c) => c.path)).toEqual(['/v1.0/$batch', '/v1.0/$batch', '/v1.0/$batch']);
      const read = stack.sandbox.control
        .messages(ADELE, 'inbox')
        .filter((x) => ids.includes(x.immutableId));
      expect(read.every((x) => x.isRead === true)).toBe(true);
    });

    it('moves many to a path and reports each new id', async () => {
      const ids = [add('Bulk move 1').immutableId, add('Bulk move 2').immutableId];
      const response = await json('POST', '/messages/batch', {
        action: 'move',
        messageIds: ids,
        destination: 'Inbox/Newsletters',
      });
      const body = (await response.json()) as { results: Array<{ newMessageId: string }> };
      expect(body.results.map((r) => r.newMessageId)).toEqual(ids);
      expect(inFolder('Inbox/Newsletters')).toEqual(expect.arrayContaining(ids));
    });

    it('retries items Graph throttled inside the batch, after their Retry-After', async () => {
      const ids = Array.from({ length: 5 }, (_, i) => add(`Throttled ${i}`).immutableId);
      stack.sandbox.control.injectFault({
        method: 'PATCH',
        path: '/v1.0/me/messages/*',
        status: 429,
        retryAfterSeconds: 1,
        count: 2,
      });
      const response = await json('POST', '/messages/batch', { action: 'flag', messageIds: ids });
      const body = (await response.json()) as { done: number };
      expect(body.done).toBe(5);
      expect(graphCalls().filter((c) => !c.inBatch)).toHaveLength(2);
      stack.sandbox.control.clearFaults();
    });

    it('answers 400 for invalid commands without calling Graph', async () => {
      for (const [body, path] of [
        [{ action: 'archive', messageIds: ['a'] }, 'action'],
        [{ action: 'markRead', messageIds: [] }, 'messageIds'],
        [
          { action: 'markRead', messageIds: Array.from({ length: 1001 }, (_, i) => `m${i}`) },
          'messageIds',
        ],
        [{ action: 'move', messageIds: ['a'] }, 'destination'],
        [{ action: 'markRead', messageIds: ['a'], destination: 'archive' }, 'destination'],
        [{ action: 'categorize', messageIds: ['a'] }, 'categories'],
        [{ action: 'markRead', messageIds: ['a', 'a'] }, 'messageIds[1]'],
      ] as const) {
        const response = await json('POST', '/messages/batch', body);
        expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
        expect((await problem(response)).errors!.map((e) => e.path)).toContain(path);
      }
      expect(graphCalls()).toEqual([]);
    });
  });
});
