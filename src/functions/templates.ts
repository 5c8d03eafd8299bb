import type { HttpResponseInit } from '@azure/functions';
import * as z from 'zod';

import { type HttpFunctionDefinition } from '../http/definitions';
import { readJson, routeId } from '../http/parse';
import { variablesSchema } from '../mail/template-variables';
import {
  createTemplateSchema,
  MAX_BODY_BYTES,
  MAX_TEMPLATE_ATTACHMENT_BYTES,
  parseIfMatchVersion,
  type Template,
  templateInputSchema,
  type TemplateService,
  templateView,
} from '../mail/templates';

// Base64 grows attachments by a third; JSON escaping can double a body's bytes.
const TEMPLATE_BODY_BYTES = Math.ceil(MAX_TEMPLATE_ATTACHMENT_BYTES * 1.4) + MAX_BODY_BYTES * 2;

/** One recipient's data; a whole bulk recipient row is accepted, its addresses play no part. */
export const previewSchema = z.strictObject({
  variables: variablesSchema.default({}),
  personalNote: z.string().max(2000).optional(),
  to: z.unknown().optional(),
  cc: z.unknown().optional(),
});

function withVersion(status: number, template: Template): HttpResponseInit {
  return {
    status,
    headers: { etag: `"${template.version}"`, 'cache-control': 'no-store' },
    jsonBody: templateView(template),
  };
}

export function templateFunctions(templates: () => TemplateService): HttpFunctionDefinition[] {
  return [
    {
      kind: 'http',
      name: 'templatesCollection',
      methods: ['GET', 'POST'],
      route: 'templates',
      auth: 'caller',
      maxBodyBytes: TEMPLATE_BODY_BYTES,
      async handler({ request, caller }) {
        if (request.method === 'GET') {
          const list = await templates().list(caller.serviceId);
          return {
            status: 200,
            headers: { 'cache-control': 'no-store' },
            jsonBody: { templates: list.map(templateView) },
          };
        }
        const { value } = await readJson(request, createTemplateSchema, {
          maxBytes: TEMPLATE_BODY_BYTES,
        });
        return withVersion(201, await templates().create(caller.serviceId, value));
      },
    },
    {
      kind: 'http',
      name: 'templatesItem',
      methods: ['GET', 'PUT', 'DELETE'],
      route: 'templates/{templateId}',
      auth: 'caller',
      maxBodyBytes: TEMPLATE_BODY_BYTES,
      async handler({ request, caller }) {
        const templateId = routeId(request, 'templateId');
        if (request.method === 'GET') {
          return withVersion(200, await templates().get(caller.serviceId, templateId));
        }
        const ifMatchVersion = parseIfMatchVersion(request.headers.get('if-match'));
        const options = ifMatchVersion === undefined ? {} : { ifMatchVersion };
        if (request.method === 'DELETE') {
          await templates().remove(caller.serviceId, templateId, options);
          return { status: 204 };
        }
        const { value } = await readJson(request, templateInputSchema, {
          maxBytes: TEMPLATE_BODY_BYTES,
        });
        return withVersion(
          200,
          await templates().replace(caller.serviceId, templateId, value, options),
        );
      },
    },
    {
      kind: 'http',
      name: 'templatesPreview',
      methods: ['POST'],
      route: 'templates/{templateId}/preview',
      auth: 'caller',
      async handler({ request, caller }) {
        const templateId = routeId(request, 'templateId');
        const { value } = await readJson(request, previewSchema);
        const rendered = await templates().preview(caller.serviceId, templateId, value);
        return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: rendered };
      },
    },
  ];
}
