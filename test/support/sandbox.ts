/** Shared helpers for sandbox tests: start/stop, tokens, and a fetch wrapper that validates Graph JSON. */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import {
  newSigningKey,
  startSandbox,
  type Sandbox,
  type SandboxOptions,
  type SigningKeyPair,
} from '../../src/local/sandbox';
import { validateGraphResponse } from './openapi-validator';

export const ALL_SCOPES =
  'User.Read Mail.ReadWrite Mail.Send Mail.ReadWrite.Shared Mail.Send.Shared offline_access';

let signingKey: Promise<SigningKeyPair> | undefined;

/**
 * A sandbox for a test: every sandbox of a test worker signs with one key pair, made once
 * (making one costs more CPU than the rest of a start, and a run starts ~100 sandboxes).
 */
export async function startTestSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  signingKey ??= newSigningKey();
  return startSandbox({ signingKey: await signingKey, ...options });
}

export async function withSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startTestSandbox({ messagesPerUser: 60, ...options });
}

export async function token(
  sb: Sandbox,
  upn = 'adele@contoso.test',
  scopes = ALL_SCOPES,
): Promise<string> {
  return (await sb.control.issueTokens(upn, { scopes })).access_token;
}

export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty / non-JSON body. */
  json: Record<string, unknown> & { value?: Array<Record<string, unknown>> };
  text: string;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Skip OpenAPI validation (for deliberately odd requests). */
  raw?: boolean;
}

/**
 * Calls the sandbox's Graph endpoint. Every JSON answer is validated against Microsoft's OpenAPI
 * schemas (where the files describe the operation), so each test also checks response shapes.
 */
export async function call(
  sb: Sandbox,
  accessToken: string | null,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (accessToken !== null) headers.Authorization = `Bearer ${accessToken}`;
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string') body = options.body;
    else if (Buffer.isBuffer(options.body)) body = Uint8Array.from(options.body);
    else {
      body = JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    }
  }
  const url = path.startsWith('http') ? path : `${sb.url}${path}`;
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json') && text.length > 0;
  const json = (isJson ? JSON.parse(text) : undefined) as CallResult['json'];
  if (!options.raw && url.includes('/v1.0/') && !url.includes('$batch')) {
    const result = validateGraphResponse(
      method,
      new URL(url).pathname,
      res.status,
      isJson ? json : text === '' ? undefined : text,
    );
    if (isJson || result.matched)
      expect(
        result.errors,
        `${method} ${path} → ${res.status} against ${result.template ?? 'no schema'}`,
      ).toEqual([]);
  }
  return { status: res.status, headers: res.headers, json, text };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Form POST to the token endpoint. */
export async function tokenRequest(
  sb: Sandbox,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sb.url}/${sb.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export function value(r: CallResult): Array<Record<string, unknown>> {
  return r.json.value ?? [];
}
