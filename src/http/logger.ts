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
  /** A logger whose lines also carry these fields. */
  child(fields: LogFields): Logger;
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

const registeredSecrets = new Set<string>();

/** Literal secrets known at run time (client secret, API keys in tests) are scrubbed too. */
export function registerSecretForRedaction(secret: string | undefined): void {
  if (secret && secret.length >= 8) registeredSecrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of registeredSecrets) out = out.split(secret).join('[redacted]');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (value instanceof Error) {
    const withCode = value as Error & { code?: unknown; statusCode?: unknown };
    return {
      name: value.name,
      message: redact(value.message),
      ...(withCode.code === undefined ? {} : { code: withCode.code }),
      ...(withCode.statusCode === undefined ? {} : { statusCode: withCode.statusCode }),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SENSITIVE_KEY.test(key) ? '[redacted]' : scrub(v, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string') return redact(value);
  return value;
}

export function formatLine(message: string, fields: LogFields): string {
  const scrubbed = scrub(fields) as LogFields;
  const tail = Object.keys(scrubbed).length > 0 ? ` ${JSON.stringify(scrubbed)}` : '';
  return redact(message) + tail;
}

export function createLogger(sink: LogSink, base: LogFields = {}): Logger {
  const write =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}) =>
      sink(level, formatLine(message, { ...base, ...fields }));
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => createLogger(sink, { ...base, ...fields }),
  };
}

/** Sink for processes outside an invocation (start-up, local host). */
export const consoleSink: LogSink = (level, line) => {
  const stamp = new Date().toISOString();
  if (level === 'error') console.error(`${stamp} ${level} ${line}`);
  else if (level === 'warn') console.warn(`${stamp} ${level} ${line}`);
  else if (level === 'info' || process.env.LOG_LEVEL === 'debug')
    console.warn(`${stamp} ${level} ${line}`);
};

/** Sink writing through an InvocationContext, so lines reach Application Insights with the invocation. */
export function invocationSink(context: {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}): LogSink {
  return (level, line) => context[level](line);
}
