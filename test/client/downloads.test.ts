import { describe, expect, it } from 'vitest';

import { fileNameOf } from '../../src/client/downloads';

describe('attachment download file names', () => {
  it('reads the RFC 5987 name first, then the quoted one, unescaped', () => {
    expect(
      fileNameOf(
        `attachment; filename="Rapport.pdf"; filename*=UTF-8''Rapport%20%C3%A9t%C3%A9.pdf`,
      ),
    ).toBe('Rapport été.pdf');
    expect(fileNameOf('attachment; filename="say \\"hi\\".txt"')).toBe('say "hi".txt');
    expect(fileNameOf('attachment')).toBeUndefined();
    expect(fileNameOf(null)).toBeUndefined();
  });
});
