import { describe, expect, it } from 'vitest';

import { compileRoute, RouteTable } from '../../src/http/routes';

describe('route table', () => {
  const table = new RouteTable([
    compileRoute('{*path}', ['GET', 'POST'], 'fallback'),
    compileRoute('credentials/{credentialId}', ['GET', 'PUT', 'DELETE'], 'credential'),
    compileRoute('credentials/{credentialId}/messages/{messageId}', ['GET'], 'message'),
    compileRoute('credentials/{credentialId}/connect', ['GET'], 'connect'),
    compileRoute('credentials/{credentialId}/{thing}', ['GET'], 'generic'),
  ]);

  it('prefers literal segments over parameters and catch-alls last', () => {
    expect(table.match('GET', 'credentials/c1/connect')).toMatchObject({
      value: 'connect',
      params: { credentialId: 'c1' },
    });
    expect(table.match('GET', 'credentials/c1/other')).toMatchObject({ value: 'generic' });
    expect(table.match('GET', 'somewhere/else')).toMatchObject({
      value: 'fallback',
      params: { path: 'somewhere/else' },
    });
  });

  it('decodes parameters once, so encoded slashes stay inside one segment', () => {
    expect(table.match('GET', 'credentials/c1/messages/AAMk%2Fx%3D%3D')).toMatchObject({
      value: 'message',
      params: { messageId: 'AAMk/x==' },
    });
  });

  it('matches literals case-insensitively like the Functions host', () => {
    expect(table.match('GET', 'Credentials/c1/CONNECT')).toMatchObject({ value: 'connect' });
  });

  it('reports the allowed methods when only the method is wrong', () => {
    const withoutFallback = new RouteTable([
      compileRoute('credentials/{credentialId}', ['GET', 'PUT'], 'c'),
    ]);
    expect(withoutFallback.match('POST', 'credentials/c1')).toEqual({
      kind: 'method_not_allowed',
      allow: ['GET', 'PUT'],
    });
    expect(withoutFallback.match('GET', 'nothing')).toEqual({ kind: 'not_found' });
  });

  it('passes a malformed escape through as the raw parameter, for the handler to reject', () => {
    const withoutFallback = new RouteTable([
      compileRoute('credentials/{credentialId}', ['GET'], 'c'),
    ]);
    expect(withoutFallback.match('GET', 'credentials/%E0%A4%A')).toMatchObject({
      kind: 'match',
      params: { credentialId: '%E0%A4%A' },
    });
  });
});
