import { runInNewContext } from 'node:vm';

import { describe, expect, it } from 'vitest';

import * as errors from '../../src/core/errors';
import {
  AppError,
  isAppError,
  isErrorOf,
  NotFoundError,
  UpstreamError,
  ValidationError,
} from '../../src/core/errors';

/** One instance of every error class the taxonomy exports. */
const samples: AppError[] = [
  new AppError('internal', 'x'),
  new errors.ValidationError({ path: 'to', message: 'is required' }),
  new errors.UnauthenticatedError(),
  new errors.ForbiddenError('no'),
  new errors.SendAsDeniedError('alias@contoso.test', 'no alias'),
  new errors.NotFoundError('The thing'),
  new errors.MethodNotAllowedError('PUT', ['GET']),
  new errors.UnsupportedMediaTypeError('json please'),
  new errors.PayloadTooLargeError('big', 1),
  new errors.ConflictError('conflict', 'taken'),
  new errors.PreconditionFailedError('stale', 2),
  new errors.ReauthRequiredError('c1'),
  new errors.InvalidCursorError(),
  new errors.ThrottledError('slow down', 1000),
  new errors.UpstreamError('graph_error', 'upstream'),
  new errors.SendOutcomeUnknownError('s1'),
  new errors.ConfigError([{ path: 'X', message: 'bad' }]),
];

/** An error as another copy of this module (a second bundle, another realm) would throw it. */
function foreign(name: string, code?: string): Error {
  return runInNewContext(
    'Object.assign(new Error("from elsewhere"), { name, ...(code ? { code } : {}) })',
    { name, code },
  ) as Error;
}

describe('error taxonomy guards', () => {
  it('every class carries its own class name as its literal name (the guards rely on it)', () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof AppError =>
        typeof value === 'function' && value.prototype instanceof Error,
    );
    expect(classes).toHaveLength(samples.length);
    for (const sample of samples) {
      expect(classes.find((kind) => kind.name === sample.name)).toBe(sample.constructor);
    }
  });

  it('isErrorOf accepts an instance or one of the same name from elsewhere, nothing else', () => {
    expect(isErrorOf(new NotFoundError('x'), NotFoundError)).toBe(true);
    expect(isErrorOf(foreign('NotFoundError', 'not_found'), NotFoundError)).toBe(true);
    expect(foreign('NotFoundError') instanceof NotFoundError).toBe(false);
    expect(isErrorOf(new ValidationError([]), NotFoundError)).toBe(false);
    expect(isErrorOf(new Error('NotFoundError'), NotFoundError)).toBe(false);
    for (const value of [undefined, null, 'NotFoundError', 42, { message: 'x' }]) {
      expect(isErrorOf(value, NotFoundError)).toBe(false);
    }
  });

  it('isAppError accepts every class, by instance or by name with a code', () => {
    for (const sample of samples) expect(isAppError(sample), sample.name).toBe(true);
    expect(isAppError(foreign('UpstreamError', 'graph_error'))).toBe(true);
    // A name alone is not enough: the edge reads `code` from what it accepts.
    expect(isAppError(foreign('UpstreamError'))).toBe(false);
    expect(isAppError(foreign('RestError', 'graph_error'))).toBe(false);
    expect(isAppError(new Error('plain'))).toBe(false);
    expect(isAppError(undefined)).toBe(false);
    expect(isErrorOf(new UpstreamError('store_unavailable', 'x'), AppError)).toBe(true);
  });
});
