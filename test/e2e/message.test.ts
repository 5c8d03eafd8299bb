import { beforeEach, describe, expect, it } from 'vitest';

import { type MessageInfo } from '../../src/local/sandbox';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';

describe('GET credentials/{id}/messages/{messageId} end to end', () => {
  let message: MessageInfo;
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

  const stack = useStack(
    () => startTestStack({ storage: false }),
    async () => {
      await stack.connect('c1');
      message = stack.sandbox.control.addMessage(ADELE, 'inbox', {
        subject: 'Line items',
        body: { contentType: 'html', content: '<p>First &amp; <i>second</i></p>' },
        from: { emailAddress: { name: 'Ian', address: 'ian.obrien@adatum.example' } },
        toRecipients: [{ emailAddress: { name: 'Adele', address: ADELE } }],
      });
    },
  );
  beforeEach(() => stack.sandbox.control.clearRequestLog());

  const get = (id: string, query = '') =>
    stack.api(`/api/credentials/c1/messages/${encodeURIComponent(id)}${query}`);

  it('returns the message with its HTML body by default, by immutable id', async () => {
    const response = await get(message.immutableId);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: message.immutableId,
      subject: 'Line items',
      from: { name: 'Ian', address: 'ian.obrien@adatum.example' },
      toRecipients: [{ name: 'Adele', address: ADELE }],
      body: { contentType: 'html', content: expect.stringContaining('<i>second</i>') },
    });
    const call = graphCalls()[0]!;
    expect(call.path).toBe(`/v1.0/me/messages/${message.immutableId}`);
    expect(call.headersPresent).toContain('prefer');
  });

  it('returns the body as text with bodyFormat=text', async () => {
    const body = (await (await get(message.immutableId, '?bodyFormat=text')).json()) as {
      body: { contentType: string; content: string };
    };
    expect(body.body.contentType).toBe('text');
    expect(body.body.content).toContain('First & second');
  });

  it('answers 404 problem+json for an id that does not exist', async () => {
    const response = await get('AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0ANOTHERE');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('URL-encodes ids with reserved characters on the way to Graph', async () => {
    const response = await get('AAkA/b+c==');
    expect(response.status).toBe(404);
    expect(graphCalls()[0]!.path).toBe('/v1.0/me/messages/AAkA%2Fb%2Bc%3D%3D');
  });

  it.each([
    ['AAkA?$top=1', 'messageId'],
    ['AAkA#x', 'messageId'],
    ['a'.repeat(513), 'messageId'],
  ])('answers 400 for the id %s without calling Graph', async (id, path) => {
    const response = await get(id);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((e) => e.path)).toContain(path);
    expect(graphCalls()).toEqual([]);
  });

  it('answers 400 for unknown parameters and bad formats', async () => {
    for (const [query, path] of [
      ['?bodyFormat=markdown', 'query.bodyFormat'],
      ['?select=subject', 'query.select'],
    ]) {
      const response = await get(message.immutableId, query);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: Array<{ path: string }> };
      expect(body.errors.map((e) => e.path)).toContain(path);
    }
    expect(graphCalls()).toEqual([]);
  });

  it("answers 404 for another service's credential", async () => {
    const response = await stack.api(
      `/api/credentials/c1/messages/${encodeURIComponent(message.immutableId)}`,
      { serviceId: 'other' },
    );
    expect(response.status).toBe(404);
  });
});
