/**
 * Structured, redacting logger. Every line carries the request id; nothing that looks like a token,
 * secret, API key or Authorization header survives, whichever field or message it hides in.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type LogSink = (level: LogLevel, line: string) => void;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines also carry these fields (and scrub these secrets too). */
  child(fields: LogFields, options?: LoggerOptions): Logger;
}

const SENSITIVE_KEY =
  /^(authorization|x-api-key|api[-_]?key|apikeys?|password|secret|client[-_]?secret|(access|refresh|id)[-_]?token|token|code[-_]?verifier|code|authtoken|cookie|set-cookie|contentbytes|contentbase64|encryptedrecord)$/i;

const PATTERNS: Array<[RegExp, string]> = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]'],
  [/\bBasic\s+[A-Za-z0-9+/=]{8,}/gi, 'Basic [redacted]'],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]'],
  [
    /\b(refresh_token|access_token|id_token|client_secret|code_verifier|code|authtoken|api[-_]?key|password|sig)=([^&\s"']+)/gi,
    '$1=[redacted]',
  ],
  [
    /"(refresh_?token|access_?token|id_?token|client_?secret|api_?key|x-api-key|authorization|password|code_?verifier|contentBytes|contentBase64)"\s*:\s*"[^"]*"/gi,
    '"$1":"[redacted]"',
  ],
];

/** Literal secrets shorter than this are not scrubbed: they would mangle ordinary words. */
const MIN_SECRET_LENGTH = 8;

/** Scrubs tokens, keys and `secrets` (literal values known at run time, e.g. the client secret). */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function scrub(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (value instanceof Error) {
    const withCode = value as Error & { code?: unknown; statusCode?: unknown };
    return {
      name: value.name,
      message: redact(value.message, secrets),
      ...(withCode.code === undefined ? {} : { code: withCode.code }),
      ...(withCode.statusCode === undefined ? {} : { statusCode: withCode.statusCode }),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SENSITIVE_KEY.test(key) ? '[redacted]' : scrub(v, secrets, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string') return redact(value, secrets);
  return value;
}

export function formatLine(
  message: string,
  fields: LogFields,
  secrets: readonly string[] = [],
): string {
  const scrubbed = scrub(fields, secrets) as LogFields;
  const tail = Object.keys(scrubbed).length > 0 ? ` ${JSON.stringify(scrubbed)}` : '';
  return redact(message, secrets) + tail;
}

export interface LoggerOptions {
  /** Literal secrets known at run time (the client secret): scrubbed wherever they appear. */
  secrets?: ReadonlyArray<string | undefined>;
}

function usableSecrets(secrets: ReadonlyArray<string | undefined> = []): string[] {
  return secrets.filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH);
}

/**
 * A logger writing to `sink`. Its secrets are given here, not registered in a module: every logger
 * derived with `child` keeps them and may add more.
 */
export function createLogger(
  sink: LogSink,
  base: LogFields = {},
  options: LoggerOptions = {},
): Logger {
  const secrets = usableSecrets(options.secrets);
  const write =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}) =>
      sink(level, formatLine(message, { ...base, ...fields }, secrets));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields, more = {}) =>
      createLogger(
        sink,
        { ...base, ...fields },
        { secrets: [...secrets, ...(more.secrets ?? [])] },
      ),
  };
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Sink for processes outside an invocation (start-up, local host): lines at `minLevel` and above. */
export function consoleSink(minLevel: LogLevel): LogSink {
  const lowest = LEVELS.indexOf(minLevel);
  return (level, line) => {
    if (LEVELS.indexOf(level) < lowest) return;
    const text = `${new Date().toISOString()} ${level} ${line}`;
    if (level === 'error') console.error(text);
    else console.warn(text);
  };
}

/** Sink writing through an InvocationContext, so lines reach Application Insights with the invocation. */
export function invocationSink(context: {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}): LogSink {
  return (level, line) => context[level](line);
}
