import { type FieldError, isErrorOf, ValidationError } from '../../core/errors';
import { describeOverLimit, isAscii, measuredMessageSize } from '../message-size';
import { type CompiledTemplate, measureTemplate, type RenderBudget } from '../template-render';
import { type BulkSettings } from './dependencies';
import { type JobRequest, MAX_REPORTED_ERRORS, type Row } from './request';

/** The rows of a job checked against its template and Exchange's limits, all in one pass. */

export const MAX_RECIPIENTS = 10_000;
export const MAX_RECIPIENTS_PER_MESSAGE = 500;
/** Each recipient's variables fit one Table string property (32 Ki UTF-16 units). */
const MAX_VARIABLES_JSON = 16_000;
/**
 * What checking every recipient of one job may cost together (node visits, substituted bytes):
 * a few hundred milliseconds, far above 10,000 recipients of an ordinary template.
 */
export const JOB_RENDER_BUDGET: Readonly<RenderBudget> = {
  steps: 4_000_000,
  valueBytes: 256 << 20,
};

/**
 * Every problem of every row (up to MAX_REPORTED_ERRORS), so a caller fixes the list in one
 * round. Rows are measured, not rendered, under one budget for the whole job.
 */
export function checkRecipients(
  request: Pick<JobRequest, 'template'> & { recipients: ReadonlyArray<Row | undefined> },
  template: CompiledTemplate,
  attachmentSizes: readonly number[],
  templateAscii: boolean,
  settings: Pick<BulkSettings, 'dailyRecipientLimit' | 'maxMessageBytes'>,
): FieldError[] {
  const errors: FieldError[] = [];
  if (request.recipients.length > MAX_RECIPIENTS) {
    errors.push({
      path: 'recipients',
      message: `at most ${MAX_RECIPIENTS} recipients per bulk send`,
    });
  }
  const seen = new Map<string, number>();
  const perMessage = Math.min(MAX_RECIPIENTS_PER_MESSAGE, settings.dailyRecipientLimit);
  const budget: RenderBudget = { ...JOB_RENDER_BUDGET };
  const limitPath = request.template ? (field: string) => `template.${field}` : () => 'templateId';
  for (const [index, recipient] of request.recipients.entries()) {
    if (errors.length >= MAX_REPORTED_ERRORS || budget.steps < 0 || budget.valueBytes < 0) break;
    if (!recipient) continue;
    const path = `recipients[${index}]`;
    const address = recipient.to.toLowerCase();
    const first = address === '' ? undefined : seen.get(address);
    if (first !== undefined)
      errors.push({ path: `${path}.to`, message: `duplicates recipients[${first}].to` });
    else if (address !== '') seen.set(address, index);
    if (1 + recipient.cc.length > perMessage) {
      errors.push({
        path: `${path}.cc`,
        message: `a message may have at most ${perMessage} recipients`,
      });
    }
    const variablesJson = JSON.stringify(recipient.variables);
    if (variablesJson.length > MAX_VARIABLES_JSON) {
      errors.push({
        path: `${path}.variables`,
        message: `at most ${MAX_VARIABLES_JSON} characters as JSON`,
      });
      continue;
    }
    try {
      const textBytes = measureTemplate(template, recipient, {
        maxBytes: settings.maxMessageBytes,
        pathPrefix: `${path}.`,
        limitPath,
        budget,
      });
      // Rendering only joins the template's text and the row's values, so both tell the encoding.
      const size = measuredMessageSize({
        textBytes,
        ascii: templateAscii && isAscii(variablesJson),
        recipients: 1 + recipient.cc.length,
        attachments: attachmentSizes,
      });
      if (size.encodedBytes > settings.maxMessageBytes) {
        errors.push({ path, message: describeOverLimit(size, settings.maxMessageBytes) });
      }
    } catch (error) {
      if (isErrorOf(error, ValidationError)) errors.push(...error.errors);
      else throw error;
    }
  }
  return errors.slice(0, MAX_REPORTED_ERRORS);
}
