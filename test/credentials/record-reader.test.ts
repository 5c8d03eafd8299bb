import { describe, expect, it } from 'vitest';

import { AppError, NotFoundError } from '../../src/core/errors';
import { RecordUnreadableError } from '../../src/credentials/envelope';
import { type StoredRecord } from '../../src/credentials/record';
import { createRecordReader } from '../../src/credentials/record-reader';
import { newEntry } from '../../src/credentials/token-entry';
import { type CredentialRecord } from '../../src/credentials/types';
import { captureLog } from '../support/credential-fakes';

const key = { serviceId: 'svc', credentialId: 'c1' };
const stored: StoredRecord = { version: 'v1', record: { ...key } as CredentialRecord };

function setup(answers: Array<StoredRecord | undefined | Error>) {
  const { log, lines } = captureLog();
  const repo = {
    read: () => {
      const next = answers.shift();
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  return { reader: createRecordReader(repo, log), lines };
}

describe('record reader', () => {
  it('returns the stored record', async () => {
    const { reader } = setup([stored]);
    await expect(reader.read(newEntry(key))).resolves.toBe(stored);
  });

  it('turns an undecryptable record into an internal error, remembered until it reads again', async () => {
    const { reader, lines } = setup([new RecordUnreadableError('bad tag', 'key-7'), stored]);
    const error = await reader.read(newEntry(key)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'internal', cause: { name: 'RecordUnreadableError' } });
    expect(reader.unreadable()).toEqual([{ ...key, reason: 'bad tag', at: expect.any(Number) }]);
    expect(lines.some((l) => l.includes('cannot be decrypted') && l.includes('key-7'))).toBe(true);
    await reader.read(newEntry(key));
    expect(reader.unreadable()).toEqual([]);
  });

  it('knows an unreadable record from another copy of the error class by its name', async () => {
    const foreign = Object.assign(new Error('bad tag'), { name: 'RecordUnreadableError' });
    const { reader } = setup([foreign]);
    await expect(reader.read(newEntry(key))).rejects.toMatchObject({ code: 'internal' });
    expect(reader.unreadable()).toHaveLength(1);
  });

  it('passes any other failure through untouched', async () => {
    const down = new Error('store down');
    const { reader } = setup([down]);
    await expect(reader.read(newEntry(key))).rejects.toBe(down);
    expect(reader.unreadable()).toEqual([]);
  });

  it('a missing record is NotFound and clears the entry', async () => {
    const { reader } = setup([undefined]);
    const e = newEntry(key);
    e.version = 'v0';
    await expect(reader.read(e)).rejects.toBeInstanceOf(NotFoundError);
    expect(e.version).toBeUndefined();
  });

  it('forgets what it remembered for a credential', async () => {
    const { reader } = setup([new RecordUnreadableError('bad tag')]);
    await reader.read(newEntry(key)).catch(() => undefined);
    reader.forget(key);
    expect(reader.unreadable()).toEqual([]);
  });
});
