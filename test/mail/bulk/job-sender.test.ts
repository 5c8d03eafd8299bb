import { describe, expect, it } from 'vitest';

import { jobSender } from '../../../src/mail/bulk/job-sender';
import { type IdentityService } from '../../../src/mail/identity/identities';
import { silentLog } from '../../support/bulk-harness';

/** Who a job's messages go out as, every address checked against the credential's identities. */

const key = { serviceId: 'svc', credentialId: 'c1' };
const options = { log: silentLog };

function identities() {
  let reads = 0;
  const service: IdentityService = {
    get() {
      reads++;
      return Promise.resolve({
        primary: { address: 'me@contoso.test', name: 'Me' },
        aliases: [{ address: 'sales@contoso.test' }],
        sendAs: [{ address: 'team@contoso.test' }],
      });
    },
    forget() {},
  };
  return { service, reads: () => reads };
}

const refusal = (path: string, address: string, whose = '') => ({
  path,
  message: `${whose}${address} is not an address this credential may send as (GET credentials/c1/identities lists them)`,
});

describe('jobSender', () => {
  it('without any from, reads no identities and keeps the replyTo', async () => {
    const ids = identities();
    const replyTo = [{ address: 'replies@contoso.test' }];
    expect(
      await jobSender(ids.service, key, { replyTo }, undefined, [{}, undefined], options),
    ).toEqual({ sender: { replyTo }, errors: [] });
    expect(ids.reads()).toBe(0);
  });

  it("the job's from over the template's, a name alone going out from the primary address", async () => {
    const ids = identities();
    const job = await jobSender(
      ids.service,
      key,
      { from: { address: 'sales@contoso.test' }, replyTo: [] },
      { from: { address: 'team@contoso.test', name: 'Team' } },
      [],
      options,
    );
    expect(job).toEqual({
      sender: { from: { address: 'sales@contoso.test', name: 'Team' }, replyTo: [] },
      errors: [],
    });
    const nameOnly = await jobSender(
      ids.service,
      key,
      { replyTo: [] },
      { from: { name: 'Sales' } },
      [],
      options,
    );
    expect(nameOnly.sender.from).toEqual({ address: 'me@contoso.test', name: 'Sales' });
  });

  it('names every address the credential may not send as, by the field it came from, reading identities once', async () => {
    const ids = identities();
    const job = await jobSender(
      ids.service,
      key,
      { from: { address: 'ceo@contoso.test' }, replyTo: [] },
      undefined,
      [{ from: { address: 'team@contoso.test' } }, { from: { address: 'x@evil.test' } }],
      options,
    );
    expect(job.errors).toEqual([
      refusal('from', 'ceo@contoso.test'),
      refusal('recipients[1].from', 'x@evil.test'),
    ]);
    expect(ids.reads()).toBe(1);
    const fromTemplate = await jobSender(
      ids.service,
      key,
      { replyTo: [] },
      { from: { address: 'old@contoso.test' } },
      [],
      options,
    );
    expect(fromTemplate.errors).toEqual([
      refusal('templateId', 'old@contoso.test', "the template's from: "),
    ]);
  });

  it('without an identity service, sends as given', async () => {
    const job = await jobSender(
      undefined,
      key,
      { from: { address: 'anyone@contoso.test' }, replyTo: [] },
      undefined,
      [],
      options,
    );
    expect(job).toEqual({
      sender: { from: { address: 'anyone@contoso.test' }, replyTo: [] },
      errors: [],
    });
  });
});
