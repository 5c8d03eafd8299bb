import { describe, expect, it } from 'vitest';
import * as z from 'zod';

import { createApp } from '../../src/app';
import { hashApiKey } from '../../src/config';
import { NotFoundError } from '../../src/core/errors';
import { type FunctionDefinition } from '../../src/http/definitions';
import { readJson, routeId } from '../../src/http/parse';
import { startLocalHost } from '../../src/local/host';
import { hostRegistrations } from '../../src/registration';
import { useStack } from '../support/use-stack';

const API_KEY = 'edge-test-key-0123456789';
const SECRET_IN_ERROR = 'refresh_token=0.AAAA-very-secret-refresh-token';

describe('HTTP edge through the local host', () => {
  const logs: string[] = [];

  const host = useStack(async () => {
    const app = createApp({
      env: {
        API_KEYS: `crm=${hashApiKey(API_KEY)}`,
        GRAPH_BASE_URL: 'http://127.0.0.1:9',
        AUTHORITY_HOST: 'http://127.0.0.1:9',
      },
      localBaseUrl: 'http://127.0.0.1:7071',
    });
    const extra: FunctionDefinition[] = [
      {
        kind: 'http',
        name: 'echo',
        methods: ['POST'],
        route: 'things/{thingId}',
        auth: 'caller',
        maxBodyBytes: 64,
        async handler({ request, caller }) {
          const thingId = routeId(request, 'thingId');
          const { value } = await readJson(request, z.strictObject({ name: z.string().min(1) }), {
            maxBytes: 64,
          });
          return {
            status: 201,
            jsonBody: { thingId, name: value.name, serviceId: caller.serviceId },
          };
        },
      },
      {
        kind: 'http',
        name: 'things',
        methods: ['GET'],
        route: 'things/{thingId}',
        auth: 'caller',
        handler: () => Promise.reject(new NotFoundError('Thing')),
      },
      {
        kind: 'http',
        name: 'boom',
        methods: ['GET'],
        route: 'boom',
        auth: 'caller',
        handler: () => Promise.reject(new Error(`database exploded with ${SECRET_IN_ERROR}`)),
      },
    ];
    const functions = [...extra, ...app.functions];
    return startLocalHost({
      registrations: hostRegistrations({ functions, edge: app.edge }),
      log: (line) => logs.push(line),
    });
  });

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${host.url}${path}`, { ...init, headers: { 'x-api-key': API_KEY, ...init.headers } });

  it('runs a handler with the caller and the parsed body', async () => {
    const response = await call('/api/things/t-1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    await expect(response.json()).resolves.toEqual({ thingId: 't-1', name: 'x', serviceId: 'crm' });
  });

  it('authenticates before anything else: no caller and a huge body is still 401', async () => {
    const response = await fetch(`${host.url}/api/things/t-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(10_000) }),
    });
    expect(response.status).toBe(401);
  });

  it('answers OPTIONS on an API route with 405 problem+json and Allow', async () => {
    const response = await call('/api/health', { method: 'OPTIONS' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 401 problem+json without a caller', async () => {
    const response = await fetch(`${host.url}/api/things/t-1`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 401, code: 'unauthenticated', title: expect.any(String) });
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    const missing = await call('/api/nothing/here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not_found' });
    const wrong = await call('/api/health', { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect(await wrong.json()).toMatchObject({ code: 'method_not_allowed' });
  });

  it.each([
    ['GET', '//api//credentials'],
    ['GET', '/'],
    ['GET', '/favicon.ico'],
    ['POST', '/apix/credentials'],
  ])('answers %s %s with 404 problem+json naming the path', async (method, path) => {
    const response = await call(path, { method });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 404, code: 'not_found', instance: path });
    expect(body.detail).toContain(path.replace(/^\/api/, ''));
  });

  it('maps typed errors to their status', async () => {
    const response = await call('/api/things/t-1');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      code: 'not_found',
      detail: 'Thing was not found.',
    });
  });

  it('answers 400 naming the field for malformed JSON, unknown fields and bad ids', async () => {
    const post = (path: string, body: string) =>
      call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const malformed = await post('/api/things/t-1', '{"name":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'body' }],
    });
    const unknown = await post('/api/things/t-1', '{"name":"a","extra":1}');
    expect(await unknown.json()).toMatchObject({
      errors: [{ path: 'extra', message: 'is not a known field' }],
    });
    const badId = await post('/api/things/bad%20id!', '{"name":"a"}');
    expect(badId.status).toBe(400);
    expect(await badId.json()).toMatchObject({ errors: [{ path: 'thingId' }] });
  });

  it('answers 415 for a body that is not JSON and 413 for a body over the route limit', async () => {
    const text = await call('/api/things/t-1', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    const big = await call('/api/things/t-1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(200) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: 'payload_too_large', limitBytes: 64 });
    // A body far larger than the socket buffers still gets the 413, not a connection reset.
    const huge = await call('/api/things/t-1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(8 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
  });

  it('answers an opaque 500 and keeps secrets and keys out of logs', async () => {
    const response = await call('/api/boom', {
      headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig' },
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('database');
    expect(text).not.toContain('secret');
    const body = JSON.parse(text) as { code: string; requestId: string };
    expect(body.code).toBe('internal');
    const all = logs.join('\n');
    expect(all).toContain(body.requestId);
    expect(all).toContain('database exploded');
    expect(all).not.toContain('very-secret-refresh-token');
    expect(all).not.toContain(API_KEY);
    expect(all).not.toContain('eyJzdWIiOiJ4In0');
  });

  it('serves health without a caller (status only), 200 even when a dependency is down', async () => {
    const response = await fetch(`${host.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'degraded' });
    const detailed = await call('/api/health');
    const body = (await detailed.json()) as { status: string; checks: Record<string, unknown> };
    expect(Object.keys(body.checks)).toEqual(expect.arrayContaining(['graph', 'identity']));
    // Credentials sent must be valid: a wrong key is a 401, not a quiet anonymous answer.
    expect(
      (await fetch(`${host.url}/api/health`, { headers: { 'x-api-key': 'wrong' } })).status,
    ).toBe(401);
  });
});

describe('the local host on its own (no catch-all function registered)', () => {
  const logs: string[] = [];

  const host = useStack(() =>
    startLocalHost({
      registrations: [
        {
          kind: 'http',
          name: 'crash',
          options: {
            methods: ['GET'],
            route: 'crash',
            handler: () => Promise.reject(new Error('not through the edge')),
          },
        },
      ],
      log: (line) => logs.push(line),
    }),
  );

  it.each([
    ['GET', '/api/nothing', 404, 'not_found'],
    ['DELETE', '/api/crash', 405, 'method_not_allowed'],
    ['POST', '/admin/functions/nothing', 404, 'not_found'],
    ['GET', '//api//crash', 404, 'not_found'],
    ['GET', '/api/crash', 500, 'internal'],
  ])('answers %s %s with %i problem+json', async (method, path, status, code) => {
    const response = await fetch(`${host.url}${path}`, { method });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status, code });
    if (status === 405) expect(response.headers.get('allow')).toBe('GET');
  });
});
