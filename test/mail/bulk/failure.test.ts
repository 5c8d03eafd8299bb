import { describe, expect, it } from 'vitest';

import {
  ForbiddenError,
  ReauthRequiredError,
  SendOutcomeUnknownError,
  ThrottledError,
  UpstreamError,
} from '../../../src/core/errors';
import { classifySendFailure } from '../../../src/mail/bulk/failure';

describe('bulk send failure', () => {
  it('pauses the job when the credential must be connected again', () => {
    expect(classifySendFailure(new ReauthRequiredError('c1'), 1, 5)).toEqual({
      kind: 'pause',
      reason: expect.stringMatching(/^reauth_required: Credential c1/),
    });
  });

  it("retries throttling after Graph's Retry-After and holds the mailbox", () => {
    expect(classifySendFailure(new ThrottledError('slow down', 7_000), 1, 5)).toEqual({
      kind: 'retry',
      reason: 'graph_throttled: slow down',
      code: 'graph_throttled',
      waitMs: 7_000,
      throttled: true,
    });
  });

  it('retries an unavailable Graph or store with its Retry-After, else backing off to 60 s', () => {
    const down = new UpstreamError('graph_unavailable', 'down');
    expect(classifySendFailure(down, 1, 9)).toMatchObject({ kind: 'retry', waitMs: 2_000 });
    expect(classifySendFailure(down, 3, 9)).toMatchObject({ waitMs: 8_000, throttled: false });
    expect(classifySendFailure(down, 8, 9)).toMatchObject({ waitMs: 60_000 });
    const store = new UpstreamError('store_unavailable', 'down', { retryAfterMs: 500 });
    expect(classifySendFailure(store, 1, 5)).toMatchObject({ kind: 'retry', waitMs: 500 });
  });

  it('fails the row once its attempts are used up', () => {
    expect(classifySendFailure(new ThrottledError('slow down', 1), 5, 5)).toEqual({
      kind: 'fail',
      reason: 'graph_throttled: slow down',
      code: 'graph_throttled',
    });
  });

  it('fails the row at once on a refusal, and says when it may have been delivered', () => {
    const refused = new UpstreamError('graph_error', 'Graph answered 400', { upstreamStatus: 400 });
    expect(classifySendFailure(refused, 1, 5)).toMatchObject({
      kind: 'fail',
      reason: 'graph_error: Graph answered 400',
    });
    expect(classifySendFailure(new ForbiddenError('no'), 1, 5)).toMatchObject({ kind: 'fail' });
    expect(classifySendFailure(new SendOutcomeUnknownError('s1'), 1, 5)).toMatchObject({
      kind: 'fail',
      reason: expect.stringMatching(/^send_outcome_unknown: .*\(it may have been delivered\)$/),
    });
  });

  it('knows errors of another copy of the taxonomy by name, and anything else as unexpected', () => {
    const foreign = Object.assign(new Error('slow'), {
      name: 'ThrottledError',
      code: 'graph_throttled',
      detail: 'slow',
      retryAfterMs: 3_000,
    });
    expect(classifySendFailure(foreign, 1, 5)).toMatchObject({ kind: 'retry', waitMs: 3_000 });
    expect(classifySendFailure(new Error('disk on fire'), 1, 5)).toEqual({ kind: 'unexpected' });
    expect(classifySendFailure('a string', 1, 5)).toEqual({ kind: 'unexpected' });
  });
});
