import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { sentCopies } from '../support/sent-items';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * POST /api/mcp driven by the MCP SDK's own Client and Streamable HTTP transport against the local
 * host, the Graph sandbox and Azurite: what an agent's MCP client does.
 */

let stack: TestStack;
let adele: string;
let megan: string;

async function connect(serviceId = 'svc'): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.host.url}/api/mcp`), {
    requestInit: { headers: { 'x-api-key': stack.apiKeys[serviceId]! } },
  });
  await client.connect(transport);
  return client;
}

interface ToolAnswer {
  isError?: boolean;
  content: Array<{ type: string; text: string }>;
}

interface Listed {
  id: string;
  path: string;
  subject: string;
  isRead: boolean;
  hasAttachments: boolean;
  preview: string;
  wellKnownName?: string;
}

/** The JSON a tool answers, loosely: each test reads the fields of the tool it called. */
interface ToolValue {
  folders: Listed[];
  messages: Listed[];
  attachments: Listed[];
  more: string | null;
  body: { contentType: string; content: string };
  error: { code: string; errors: Array<{ path: string }> };
  id: string;
  folderId: string;
  done: number;
  failed: unknown[];
  draftId: string;
  subject: string;
  to: string[];
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  const answer = (await client.callTool({ name, arguments: args })) as ToolAnswer;
  const text = answer.content[0]!.text;
  return { isError: answer.isError ?? false, value: JSON.parse(text) as ToolValue, text };
}

let agent: Client;

beforeAll(async () => {
  stack = await startTestStack();
  adele = stack.sandbox.users[0]!.userPrincipalName;
  megan = stack.sandbox.users[1]!.userPrincipalName;
  await stack.connect('demo', { upn: adele });
  agent = await connect();
}, 120_000);
afterAll(async () => {
  await agent?.close();
  await stack?.close();
});

describe('tools/list', () => {
  it('lists every tool with a JSON-schema input and read-only or destructive annotations', async () => {
    const { tools } = await agent.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'get_message',
        'list_attachments',
        'list_folders',
        'mark_read',
        'move_message',
        'search_messages',
        'send_mail',
        'reply',
        'forward',
        'create_draft',
      ].sort(),
    );
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.inputSchema.required).toContain('credentialId');
      expect(typeof tool.annotations?.readOnlyHint).toBe('boolean');
      expect(typeof tool.annotations?.destructiveHint).toBe('boolean');
    }
    for (const name of ['list_folders', 'search_messages', 'get_message', 'list_attachments']) {
      expect(byName[name]!.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
      });
    }
    expect(byName.send_mail!.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
    });
    expect(byName.search_messages!.inputSchema.properties).toHaveProperty('query');
    expect(byName.search_messages!.inputSchema.properties).toHaveProperty('receivedAfter');
  });
});

describe('tools/call against the sandbox', () => {
  it('list_folders: paths, ids and counts, paged with "more"', async () => {
    const { isError, value } = await call(agent, 'list_folders', { credentialId: 'demo' });
    expect(isError).toBe(false);
    const paths = value.folders.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['Inbox', 'Inbox/Projects/2026', 'Sent Items']));
    expect(value.folders[0]).toEqual({
      id: expect.any(String),
      path: expect.any(String),
      ...(value.folders[0]!.wellKnownName ? { wellKnownName: expect.any(String) } : {}),
      unread: expect.any(Number),
      total: expect.any(Number),
    });
    expect(value.more).toBeNull();
  });

  it('search_messages: short summaries, filters, free text and the "more" cursor', async () => {
    const first = await call(agent, 'search_messages', {
      credentialId: 'demo',
      folder: 'inbox',
      unread: true,
      top: 3,
    });
    expect(first.isError).toBe(false);
    expect(first.value.messages).toHaveLength(3);
    for (const m of first.value.messages) {
      expect(m.isRead).toBe(false);
      expect(m.preview.length).toBeLessThanOrEqual(201);
      expect(m).not.toHaveProperty('body');
    }
    expect(first.value.more).toEqual(expect.any(String));
    const second = await call(agent, 'search_messages', {
      credentialId: 'demo',
      cursor: first.value.more,
    });
    const ids = (r: typeof first) => r.value.messages.map((m: { id: string }) => m.id);
    expect(ids(second)).toHaveLength(3);
    expect(ids(second).filter((id: string) => ids(first).includes(id))).toEqual([]);

    const subject = first.value.messages[0]!.subject;
    const word = subject.split(/\s+/).find((w) => w.length > 4) ?? subject;
    const found = await call(agent, 'search_messages', { credentialId: 'demo', query: word });
    expect(found.value.messages.length).toBeGreaterThan(0);

    const mixed = await call(agent, 'search_messages', {
      credentialId: 'demo',
      query: word,
      unread: true,
    });
    expect(mixed.isError).toBe(true);
    expect(mixed.value.error).toMatchObject({ code: 'validation_failed' });
    expect(mixed.value.error.errors[0]!.path).toBe('unread');
  });

  it('get_message: the text body, cut into parts an agent reads on with "more"', async () => {
    const long = 'All work and no play. '.repeat(600);
    const sent = await call(agent, 'send_mail', {
      credentialId: 'demo',
      to: adele,
      subject: 'a long note for the agent',
      body: `<p>${long}</p>`,
      contentType: 'html',
    });
    expect(sent.isError).toBe(false);
    const listed = await call(agent, 'search_messages', {
      credentialId: 'demo',
      folder: 'inbox',
      top: 5,
    });
    const note = listed.value.messages.find(
      (m: { subject: string }) => m.subject === 'a long note for the agent',
    );
    const part1 = await call(agent, 'get_message', { credentialId: 'demo', messageId: note!.id });
    expect(part1.value.body.contentType).toBe('text');
    expect(part1.value.body.content).not.toContain('<p>');
    expect(part1.value.body.content.length).toBe(8000);
    expect(part1.value.more).toBe('8000');
    const part2 = await call(agent, 'get_message', {
      credentialId: 'demo',
      messageId: note!.id,
      cursor: part1.value.more,
    });
    const whole = `${part1.value.body.content}${part2.value.body.content}`;
    expect(whole.match(/All work and no play\./g)).toHaveLength(600);
    expect(part2.value.more).toBeNull();
  });

  it('list_attachments, move_message and mark_read act on the same mailbox as the routes', async () => {
    const withFiles = await call(agent, 'search_messages', { credentialId: 'demo', top: 25 });
    const message = withFiles.value.messages.find(
      (m: { hasAttachments: boolean }) => m.hasAttachments,
    );
    const attachments = await call(agent, 'list_attachments', {
      credentialId: 'demo',
      messageId: message!.id,
    });
    expect(attachments.value.attachments[0]).toMatchObject({
      id: expect.any(String),
      name: expect.any(String),
      size: expect.any(Number),
    });

    const moved = await call(agent, 'move_message', {
      credentialId: 'demo',
      messageId: message!.id,
      destination: 'Inbox/Projects/2026',
    });
    expect(moved.isError).toBe(false);
    expect(moved.value).toMatchObject({ id: message!.id, idType: 'immutable' });
    const folders = await call(agent, 'list_folders', { credentialId: 'demo' });
    const projects = folders.value.folders.find(
      (f: { path: string }) => f.path === 'Inbox/Projects/2026',
    );
    expect(moved.value.folderId).toBe(projects!.id);
    const inProjects = async () =>
      (
        await call(agent, 'search_messages', {
          credentialId: 'demo',
          folder: projects!.id,
          top: 25,
        })
      ).value.messages as Array<{ id: string; isRead: boolean }>;
    expect((await inProjects()).map((m) => m.id)).toContain(message!.id);

    const marked = await call(agent, 'mark_read', {
      credentialId: 'demo',
      messageIds: [message!.id, 'AAMkNoSuchMessage'],
      read: false,
    });
    expect(marked.value.done).toBe(1);
    expect(marked.value.failed).toEqual([
      expect.objectContaining({ messageId: 'AAMkNoSuchMessage', status: 'failed' }),
    ]);
    expect((await inProjects()).find((m) => m.id === message!.id)?.isRead).toBe(false);
  });
});

describe('answering mail', () => {
  it('reply keeps the conversation; forward sends the original on with a note', async () => {
    const original = await call(agent, 'send_mail', {
      credentialId: 'demo',
      to: adele,
      subject: 'question for the agent',
      body: 'Can you confirm?',
    });
    expect(original.isError).toBe(false);
    const inbox = await call(agent, 'search_messages', {
      credentialId: 'demo',
      folder: 'inbox',
      top: 5,
    });
    const question = inbox.value.messages.find((m) => m.subject === 'question for the agent')!;

    const replied = await call(agent, 'reply', {
      credentialId: 'demo',
      messageId: question.id,
      body: 'Confirmed.',
    });
    expect(replied.isError).toBe(false);
    const forwarded = await call(agent, 'forward', {
      credentialId: 'demo',
      messageId: question.id,
      to: megan,
      body: 'FYI',
    });
    expect(forwarded.isError).toBe(false);

    const [reply] = await sentCopies(stack.sandbox, adele, 'RE: question for the agent');
    const [forward] = await sentCopies(stack.sandbox, adele, 'FW: question for the agent');
    expect(reply?.conversationId).toBe(
      (question as unknown as { conversationId: string }).conversationId,
    );
    expect(forward?.toRecipients).toEqual([
      expect.objectContaining({ emailAddress: expect.objectContaining({ address: megan }) }),
    ]);
  });
});

describe('create_draft, for a person in the loop', () => {
  it('saves a new mail and a reply in Drafts and sends nothing', async () => {
    // Earlier sends' copies settle first (they "may take time" to reach Sent Items).
    await vi.waitFor(() => expect(stack.sandbox.control.outbox(adele)).toEqual([]));
    const sentBefore = stack.sandbox.control.sentItems(adele).length;
    const fresh = await call(agent, 'create_draft', {
      credentialId: 'demo',
      to: megan,
      subject: 'draft for review',
      body: 'Please check before it goes.',
    });
    expect(fresh.isError).toBe(false);
    expect(fresh.value).toMatchObject({ subject: 'draft for review', to: [megan] });

    const inbox = await call(agent, 'search_messages', { credentialId: 'demo', top: 1 });
    const answered = inbox.value.messages[0]!;
    const reply = await call(agent, 'create_draft', {
      credentialId: 'demo',
      replyTo: answered.id,
      body: 'A reply to approve.',
    });
    expect(reply.isError).toBe(false);
    expect(String(reply.value.subject)).toMatch(/^RE: /);

    const drafts = stack.sandbox.control.messages(adele, 'drafts');
    const ids = drafts.map((m) => m.immutableId);
    expect(ids).toEqual(expect.arrayContaining([fresh.value.draftId, reply.value.draftId]));
    expect(stack.sandbox.control.sentItems(adele)).toHaveLength(sentBefore);

    const both = await call(agent, 'create_draft', {
      credentialId: 'demo',
      replyTo: answered.id,
      forwardOf: answered.id,
      to: megan,
      body: 'x',
    });
    expect(both.isError).toBe(true);
  });
});

describe('send_mail is idempotent per tool call', () => {
  /** A tools/call with a fixed JSON-RPC id, as a client retrying a call sends it again. */
  async function rawCall(id: number, args: Record<string, unknown>) {
    const response = await stack.api('/api/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'send_mail', arguments: args },
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: ToolAnswer };
    return JSON.parse(body.result.content[0]!.text) as Record<string, unknown>;
  }

  it('the same call (id, credential, arguments) sends once; another call sends again', async () => {
    const args = {
      credentialId: 'demo',
      to: megan,
      subject: `agent once ${Date.now()}`,
      body: 'hi',
    };
    const first = await rawCall(41, args);
    const repeat = await rawCall(41, args);
    expect(repeat).toEqual(first);
    const sent = (count: number) => sentCopies(stack.sandbox, adele, args.subject, count);
    expect(await sent(1)).toHaveLength(1);
    const next = await rawCall(42, args);
    expect(next.sendId).not.toBe(first.sendId);
    expect(await sent(2)).toHaveLength(2);
  });
});

describe('callers and services', () => {
  it('answers 401 without a caller, and another service sees no credential of this one', async () => {
    const anonymous = await fetch(`${stack.host.url}/api/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');

    const other = await connect('other');
    const theirs = await call(other, 'list_folders', { credentialId: 'demo' });
    await other.close();
    expect(theirs.isError).toBe(true);
    expect(theirs.value.error.code).toBe('not_found');
    expect(theirs.text).not.toContain(adele);
  });

  it('refuses invalid arguments naming the field, before any Graph call', async () => {
    stack.sandbox.control.clearRequestLog();
    const answer = (await agent.callTool({
      name: 'search_messages',
      arguments: { credentialId: '../other', top: 500 },
    })) as ToolAnswer;
    expect(answer.isError).toBe(true);
    expect(answer.content[0]!.text).toMatch(/credentialId/);
    expect(answer.content[0]!.text).toMatch(/top/);
    expect(stack.sandbox.control.requestLog()).toEqual([]);
  });
});

describe('requests the transport refuses', () => {
  it('answers problem+json naming what was wrong, as every route does', async () => {
    const rpc = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const noAccept = await stack.api('/api/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: rpc,
    });
    expect(noAccept.status).toBe(400);
    expect(noAccept.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await noAccept.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'headers.accept', message: expect.stringContaining('text/event-stream') }],
    });

    const notJson = await stack.api('/api/mcp', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', accept: 'application/json, text/event-stream' },
      body: rpc,
    });
    expect(notJson.status).toBe(415);
    expect(await notJson.json()).toMatchObject({ code: 'unsupported_media_type' });
  });
});
