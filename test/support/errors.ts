import { ValidationError } from '../../src/core/errors';

/** The field errors `run` is refused with (it must throw, or reject with, a ValidationError). */
export async function validationErrors(run: () => unknown) {
  try {
    await run();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors;
    throw error;
  }
  throw new Error('expected a ValidationError');
}
