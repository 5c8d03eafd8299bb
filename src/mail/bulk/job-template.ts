import { isErrorOf, NotFoundError, ValidationError } from '../../core/errors';
import { type CompiledTemplate, compileTemplate, type TemplateParts } from '../template-render';
import { type SenderFields } from '../recipients';
import { type AttachmentRef } from '../template-storage';
import { type TemplateService } from '../templates';
import { type JobRequest } from './request';

/**
 * The job's template: the inline one, or the service's stored one (with its attachments and sender
 * fields), compiled. Problems name `template.*`, or `templateId` for a stored one.
 */

export interface JobTemplate {
  parts: TemplateParts;
  /** The stored template's default attachments (an inline template has none). */
  attachments: AttachmentRef[];
  id: string | undefined;
  version: number | undefined;
  /** The stored template's from and replyTo, under the job's and each row's. */
  sender: SenderFields | undefined;
}

export async function resolveTemplate(
  templates: Pick<TemplateService, 'get'>,
  serviceId: string,
  request: Pick<JobRequest, 'template' | 'templateId'>,
): Promise<JobTemplate> {
  if (request.template) {
    return {
      parts: request.template,
      attachments: [],
      id: undefined,
      version: undefined,
      sender: undefined,
    };
  }
  try {
    const template = await templates.get(serviceId, request.templateId!);
    return {
      parts: template,
      attachments: template.attachments,
      id: template.templateId,
      version: template.version,
      sender: { from: template.from ?? undefined, replyTo: template.replyTo },
    };
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) {
      throw new ValidationError({
        path: 'templateId',
        message: 'is not a template of this service',
      });
    }
    throw error;
  }
}

/** Compiles the job's template; problems name `template.*` or the stored template's id. */
export function compileFor(
  request: Pick<JobRequest, 'template'>,
  parts: TemplateParts,
): CompiledTemplate {
  try {
    return compileTemplate(parts);
  } catch (error) {
    if (!isErrorOf(error, ValidationError)) throw error;
    throw new ValidationError(
      error.errors.map((e) =>
        request.template
          ? { path: `template.${e.path}`, message: e.message }
          : { path: 'templateId', message: `${e.path}: ${e.message}` },
      ),
    );
  }
}
