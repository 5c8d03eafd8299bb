import type { HttpResponseInit } from '@azure/functions';
import * as z from 'zod';

import { type HttpFunctionDefinition } from '../http/definitions';
import { readJson, routeId } from '../http/parse';
import { placeSignature } from '../mail/identity/compose';
import { type SenderPreparer } from '../mail/identity/sender';
import { mergeSender } from '../mail/recipients';
import { readPreview } from '../mail/template-preview';
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

function withVersion(status: number, template: Template): HttpResponseInit {
  return {
    status,
    headers: { etag: `"${template.version}"`, 'cache-control': 'no-store' },
    jsonBody: templateView(template),
  };
}

export function templateFunctions(
  templates: () => TemplateService,
  sender: SenderPreparer,
): HttpFunctionDefinition[] {
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
      async handler({ request, caller, abortSignal, log }) {
        const templateId = routeId(request, 'templateId');
        const { value: raw } = await readJson(request, z.unknown());
        const { value, rendered } = await readPreview(raw, (input) =>
          templates().preview(caller.serviceId, templateId, input),
        );
        const noStore = { 'cache-control': 'no-store' };
        const { subject, contentType } = rendered;
        if (value.credentialId === undefined) {
          const body = placeSignature(rendered.body, rendered.contentType, undefined);
          return { status: 200, headers: noStore, jsonBody: { subject, body, contentType } };
        }
        const credential = { serviceId: caller.serviceId, credentialId: value.credentialId };
        // The row's sender fields over the template's, as a bulk job takes them.
        const merged = mergeSender([value, rendered]);
        const from =
          merged.from && (await sender.resolveFrom(credential, merged.from, { abortSignal, log }));
        // The send stage's own step, so the preview shows the message as it would leave.
        const message = await sender.prepare(
          credential,
          {
            subject,
            body: rendered.body,
            contentType,
            to: value.to === undefined ? [] : [{ address: value.to }],
            cc: value.cc.map((address) => ({ address })),
            bcc: [],
            replyTo: merged.replyTo,
            importance: 'normal',
            saveToSentItems: true,
            headers: {},
            attachments: [],
            ...(from === undefined ? {} : { from }),
            ...(value.signature === undefined ? {} : { signature: value.signature }),
          },
          { abortSignal, log },
        );
        return {
          status: 200,
          headers: noStore,
          jsonBody: {
            subject: message.subject,
            body: message.body,
            contentType: message.contentType,
            from: message.from ?? null,
            replyTo: message.replyTo,
            inlineImages: message.attachments.map((a) => ({
              name: a.name,
              contentType: a.contentType,
              contentId: a.contentId ?? null,
              size: a.size,
            })),
          },
        };
      },
    },
  ];
}
