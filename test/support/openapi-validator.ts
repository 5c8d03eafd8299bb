/**
 * Validates Graph JSON responses against Microsoft's OpenAPI descriptions of the Mail module and
 * the mail actions (`test/fixtures/graph/openapi-*.yaml`). Reusable by any test:
 * `validateGraphResponse('GET', '/v1.0/me/messages', 200, body)` → `{ matched, valid, errors }`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

export const GRAPH_FIXTURES_DIR = join(__dirname, '..', 'fixtures', 'graph');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

interface Operation {
  responses?: Record<string, JsonObject>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: JsonObject; responses?: JsonObject };
}

const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * OpenAPI 3.0 → JSON Schema: `nullable` becomes a null alternative; the generator's
 * `additionalProperties: {type: object}` (which would reject every annotation such as
 * `@odata.etag`) means "open type" and is dropped; documentation keywords go.
 */
function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (
      k.startsWith('x-') ||
      ['example', 'externalDocs', 'description', 'nullable', 'discriminator', 'xml'].includes(k)
    )
      continue;
    if (
      k === 'additionalProperties' &&
      isObject(v) &&
      v.type === 'object' &&
      Object.keys(v).length === 1
    )
      continue;
    if (k === 'format') continue;
    out[k] = toJsonSchema(v);
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (out.$ref !== undefined || out.anyOf !== undefined || out.allOf !== undefined)
      return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

interface Compiled {
  pattern: RegExp;
  template: string;
  ops: Record<string, Operation>;
}

let cache:
  | {
      ajv: Ajv;
      paths: Compiled[];
      responses: JsonObject;
      validators: Map<string, ValidateFunction>;
    }
  | undefined;

function load(): NonNullable<typeof cache> {
  if (cache) return cache;
  const docs = ['openapi-mail-v1.0.yaml', 'openapi-mail-actions-v1.0.yaml'].map(
    (f) => parse(readFileSync(join(GRAPH_FIXTURES_DIR, f), 'utf8')) as OpenApiDoc,
  );
  const schemas: JsonObject = {};
  const responses: JsonObject = {};
  const paths: Compiled[] = [];
  for (const doc of docs) {
    Object.assign(schemas, doc.components.schemas ?? {});
    Object.assign(responses, doc.components.responses ?? {});
    for (const [template, ops] of Object.entries(doc.paths)) {
      const escaped = template.replace(/[.()$]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      paths.push({ pattern: new RegExp(`^${escaped}$`, 'i'), template, ops });
    }
  }
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(toJsonSchema({ components: { schemas } }) as object, 'graph');
  cache = { ajv, paths, responses, validators: new Map() };
  return cache;
}

const ACTIONS: Record<string, string> = {
  sendmail: 'microsoft.graph.sendMail',
  send: 'microsoft.graph.send',
  createuploadsession: 'microsoft.graph.createUploadSession',
  delta: 'microsoft.graph.delta()',
};

/** `/v1.0/me/mailFolders/inbox/messages?x` → `/users/me/mailFolders/inbox/messages`, actions namespaced. */
export function toOpenApiPath(path: string): string {
  const bare = path
    .split('?')[0]!
    .replace(/^https?:\/\/[^/]+/, '')
    .replace(/^\/v1\.0/i, '');
  const segs = bare
    .replace(/\('([^']*)'\)/g, '/$1')
    .split('/')
    .filter(Boolean);
  if (segs[0]?.toLowerCase() === 'me') segs.splice(0, 1, 'users', 'me');
  return `/${segs.map((s) => ACTIONS[s.toLowerCase()] ?? s).join('/')}`;
}

export interface ValidationResult {
  /** False when the OpenAPI files describe no such operation (e.g. `/me`, `$batch`). */
  matched: boolean;
  valid: boolean;
  errors: string[];
  template?: string;
}

function responseSchema(ref: JsonObject, responses: JsonObject): Json | undefined {
  let r: Json = ref;
  while (
    isObject(r) &&
    typeof r.$ref === 'string' &&
    r.$ref.startsWith('#/components/responses/')
  ) {
    r = responses[r.$ref.slice('#/components/responses/'.length)] ?? null;
  }
  if (!isObject(r)) return undefined;
  const content = r.content;
  if (!isObject(content)) return undefined;
  const media = content['application/json'];
  return isObject(media) ? media.schema : undefined;
}

function hasContent(ref: JsonObject, responses: JsonObject): boolean {
  let r: Json = ref;
  while (isObject(r) && typeof r.$ref === 'string')
    r = responses[r.$ref.slice('#/components/responses/'.length)] ?? null;
  return isObject(r) && isObject(r.content);
}

export function validateGraphResponse(
  method: string,
  path: string,
  status: number,
  body: unknown,
): ValidationResult {
  const { ajv, paths, responses, validators } = load();
  const target = toOpenApiPath(path);
  // The most literal template wins (`…/messages/microsoft.graph.delta()` over `…/messages/{message-id}`).
  const compiled = paths
    .filter((p) => p.pattern.test(target))
    .sort(
      (a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0),
    )[0];
  const op = compiled?.ops[method.toLowerCase()];
  if (!compiled || !op?.responses) return { matched: false, valid: true, errors: [] };
  const key = op.responses[String(status)]
    ? String(status)
    : status >= 200 && status < 300 && op.responses['2XX']
      ? '2XX'
      : 'default';
  const response = op.responses[key];
  if (!response)
    return {
      matched: true,
      valid: false,
      errors: [`no response ${status} for ${method} ${compiled.template}`],
      template: compiled.template,
    };
  const schema = responseSchema(response, responses);
  if (schema === undefined && hasContent(response, responses)) {
    // Non-JSON content (MIME, octet streams): nothing to validate structurally.
    return { matched: true, valid: true, errors: [], template: compiled.template };
  }
  if (schema === undefined) {
    // No content described (e.g. 202/204 actions): the body must be empty.
    const empty = body === undefined || body === null || body === '';
    return {
      matched: true,
      valid: empty,
      errors: empty ? [] : ['expected an empty body'],
      template: compiled.template,
    };
  }
  const cacheKey = `${method} ${compiled.template} ${key}`;
  let validate = validators.get(cacheKey);
  if (!validate) {
    const converted = JSON.parse(
      JSON.stringify(toJsonSchema(schema)).replace(
        /"#\/components\/schemas\//g,
        '"graph#/components/schemas/',
      ),
    ) as object;
    validate = ajv.compile(converted);
    validators.set(cacheKey, validate);
  }
  const valid = validate(body);
  return {
    matched: true,
    valid,
    errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`),
    template: compiled.template,
  };
}
