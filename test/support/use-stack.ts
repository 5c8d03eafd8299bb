import { afterAll, beforeAll } from 'vitest';

interface Closable {
  close(): unknown;
}

/**
 * The lifecycle every suite wrote out: `start()` before the tests of the file (or of the
 * `describe` it is called in), `prepare` on what it started, `close()` after them. Returns the
 * started value itself for the tests to use (a stand-in that forwards to it once it exists), so
 * `const stack = useStack(() => startTestStack())` reads like the value it holds. What was
 * started is closed even when `prepare` fails; nothing is closed that did not start.
 */
export function useStack<T extends Closable>(
  start: () => Promise<T>,
  prepare?: (started: T) => unknown,
): T {
  let current: T | undefined;
  beforeAll(async () => {
    current = await start();
    await prepare?.(current);
  });
  afterAll(async () => {
    const started = current;
    current = undefined;
    await started?.close();
  });
  const target = (): T => {
    if (current === undefined) throw new Error('useStack: used outside the tests it was made for');
    return current;
  };
  return new Proxy({} as T, {
    get(_, property) {
      const value = Reflect.get(target(), property) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target()) : value;
    },
    set(_, property, value) {
      return Reflect.set(target(), property, value);
    },
    has: (_, property) => Reflect.has(target(), property),
  });
}
