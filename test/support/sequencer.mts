import { existsSync } from 'node:fs';
import path from 'node:path';

import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, most of it waiting on real time by design (Azure's shortest blob
 * lease is 15 s, bulk pacing windows, whole-second queue visibility), longest first. Workers take
 * files in order, so these start first and their waits overlap the other files' work instead of
 * ending the run. Vitest orders by the durations of the last run, but a fresh clone has none (it
 * then orders by file size), so the list says it. A renamed file fails the run here.
 */
export const LONGEST_FIRST = [
  'test/mail/bulk/jobs.test.ts',
  'test/e2e/send.test.ts',
  'test/e2e/bulk-uploads.test.ts',
  'test/graph/slot-table.test.ts',
  'test/e2e/bulk.test.ts',
  'test/e2e/identity-templates.test.ts',
  'test/mail/send.test.ts',
  'test/e2e/sends.test.ts',
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const missing = LONGEST_FIRST.filter((file) => !existsSync(path.join(root, file)));
    if (missing.length > 0) {
      throw new Error(
        `test/support/sequencer.mts lists files that do not exist: ${missing.join(', ')}`,
      );
    }
    const rank = (spec: TestSpecification) => {
      const index = LONGEST_FIRST.indexOf(
        path.relative(root, spec.moduleId).split(path.sep).join('/'),
      );
      return index === -1 ? LONGEST_FIRST.length : index;
    };
    // Array.prototype.sort is stable: the rest keep vitest's own order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
