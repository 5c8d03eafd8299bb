import * as z from 'zod';

import { type FieldError, isErrorOf, ValidationError } from '../core/errors';
import { idSchema, toFieldErrors } from '../core/validators';
import { bulkRecipientSchema, rowMergeFields } from './bulk/request';
import { fromField, replyToList } from './recipients';
import { type Rendered, type RenderInput } from './template-render';

/**
 * One bulk row, checked exactly as a bulk job checks it (`to` may be left out), plus the job's
 * sender fields. With `credentialId` the preview is what that credential would send: `from`
 * checked against its identities, its signature in place with the inline images listed.
 */
export const previewSchema = bulkRecipientSchema
  .partial({ to: true })
  .extend({
    credentialId: idSchema.optional(),
    from: fromField.optional(),
    replyTo: replyToList,
    signature: z.boolean().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.credentialId === undefined && value.from !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentialId'],
        message: 'is required with from: it names whose addresses from is checked against',
      });
    }
  });

export type PreviewRequest = z.output<typeof previewSchema>;

/**
 * Reads a preview request and renders it; a request with bad fields is still rendered with its
 * variables, so a bad address and a missing merge field of the row are named at once, as a bulk
 * job names them.
 */
export async function readPreview<R extends Rendered>(
  raw: unknown,
  render: (input: RenderInput) => Promise<R>,
): Promise<{ value: PreviewRequest; rendered: R }> {
  const parsed = previewSchema.safeParse(raw);
  if (parsed.success) return { value: parsed.data, rendered: await render(parsed.data) };
  const errors: FieldError[] = toFieldErrors(parsed.error.issues);
  const merge = rowMergeFields(raw);
  if (merge) {
    try {
      await render(merge);
    } catch (error) {
      if (!isErrorOf(error, ValidationError)) throw error;
      errors.push(...error.errors);
    }
  }
  throw new ValidationError(errors);
}
