import { type CallOptions, type JsonBody, type Transport } from './transport';

/** What a service has beside its mailboxes: templates and reports. */
export function serviceCalls({ api, call }: Transport) {
  return {
    templates: {
      create: (template: JsonBody<'createTemplate'>, o?: CallOptions) =>
        call((signal) => api.POST('/templates', { body: template, signal }), o),
      list: (o?: CallOptions) => call((signal) => api.GET('/templates', { signal }), o),
      get: (templateId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/templates/{templateId}', { params: { path: { templateId } }, signal }),
          o,
        ),
      update: (templateId: string, template: JsonBody<'updateTemplate'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.PUT('/templates/{templateId}', {
              params: { path: { templateId } },
              body: template,
              signal,
            }),
          o,
        ),
      delete: (templateId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.DELETE('/templates/{templateId}', { params: { path: { templateId } }, signal }),
          o,
        ),
      preview: (templateId: string, recipient: JsonBody<'previewTemplate'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/templates/{templateId}/preview', {
              params: { path: { templateId } },
              body: recipient,
              signal,
            }),
          o,
        ),
    },
    reports: {
      preview: (reportId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/reports/{reportId}/preview', {
              params: { path: { reportId } },
              parseAs: 'text',
              signal,
            }),
          o,
        ),
      run: (reportId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/reports/{reportId}/run', { params: { path: { reportId } }, signal }),
          o,
        ),
    },
  };
}
