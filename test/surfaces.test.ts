import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { createApp } from '../src/app';
import { createMcpEndpoint } from '../src/http/mcp/server';

/**
 * Which served routes each caller surface reaches (issue #19): the typed client calls every route
 * a platform calls, so openapi, the generated types and the facade cannot drift apart; each MCP
 * tool names the documented route that does the same.
 */
const root = path.join(__dirname, '..');
const doc = parse(readFileSync(path.join(root, 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const documented = Object.entries(doc.paths).flatMap(([route, item]) =>
  Object.keys(item)
    .filter((key) => METHODS.includes(key))
    .map((method) => `${method.toUpperCase()} ${route}`),
);

/** Routes that are not a platform's to call, and why. */
const NOT_FOR_PLATFORMS: Record<string, string> = {
  'GET /oauth/callback': "the mailbox owner's browser, back from Microsoft sign-in",
  'POST /oauth/confirm': "the mailbox owner's confirmation form",
  'POST /graph/notifications': "Microsoft Graph's change notifications",
  'POST /graph/lifecycle': "Microsoft Graph's lifecycle notifications",
  'POST /mcp': "AI agents' surface (MCP clients speak it, below)",
};

/** The routes the typed client's modules call (one module per resource area). */
function clientRoutes(): string[] {
  const dir = path.join(root, 'src/client');
  const source = readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && file !== 'schema.ts')
    .map((file) => readFileSync(path.join(dir, file), 'utf8'))
    .join('\n');
  return [...source.matchAll(/api\.(GET|PUT|POST|PATCH|DELETE)\(\s*'([^']+)'/g)].map(
    ([, method, route]) => `${method} ${route}`,
  );
}

describe('caller surfaces cover the served routes', () => {
  it('the typed client calls every route a platform calls, and only documented ones', () => {
    const covered = new Set(clientRoutes());
    const expected = documented.filter((r) => !(r in NOT_FOR_PLATFORMS)).sort();
    expect([...covered].sort()).toEqual(expected);
    for (const route of Object.keys(NOT_FOR_PLATFORMS)) expect(documented).toContain(route);
  });

  it('each MCP tool does what a documented route does, and the MCP route is served', () => {
    const endpoint = createMcpEndpoint({
      readers: undefined as never,
      actions: undefined as never,
      send: undefined as never,
      drafts: undefined as never,
    });
    const byTool = Object.fromEntries(endpoint.tools.map((t) => [t.name, t.route]));
    console.log('MCP tools → routes', byTool);
    expect(Object.keys(byTool)).toEqual(
      expect.arrayContaining([
        'list_folders',
        'search_messages',
        'get_message',
        'list_attachments',
        'send_mail',
        'move_message',
        'mark_read',
        'reply',
        'forward',
        'create_draft',
      ]),
    );
    for (const route of Object.values(byTool)) expect(documented).toContain(route);
    const app = createApp({ env: {}, localBaseUrl: 'http://127.0.0.1:7071' });
    expect(app.functions).toContainEqual(
      expect.objectContaining({ name: 'mcp', route: 'mcp', methods: ['POST'], auth: 'caller' }),
    );
  });
});
