import { createPrng, type Prng } from './util';

/**
 * A fault rule. It matches a method and a path pattern (against the request path including `/v1.0`,
 * or the upload/identity path; `*` matches any characters, case-insensitive) and then, at most
 * `count` times and with `probability` (seeded PRNG), does one thing:
 * - `status` 429/503/504 (optional `retryAfterSeconds`) without processing the request;
 * - `latencyMs` extra delay before processing (may be combined with `status`);
 * - `drop: true` closes the connection without an answer;
 * - `afterAccept: true` processes the request (the send really happens) and then answers 504.
 */
export interface FaultRule {
  method?: string;
  path: string;
  count?: number;
  probability?: number;
  status?: 429 | 503 | 504;
  retryAfterSeconds?: number;
  latencyMs?: number;
  drop?: boolean;
  afterAccept?: boolean;
}

export interface FaultDecision {
  latencyMs: number;
  status: number | null;
  retryAfterSeconds: number | null;
  drop: boolean;
  afterAccept: boolean;
}

interface ActiveRule {
  rule: FaultRule;
  pattern: RegExp;
  remaining: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private readonly rnd: Prng;

  constructor(seed: number) {
    this.rnd = createPrng(seed ^ 0x5eed);
  }

  add(rule: FaultRule): void {
    const escaped = rule.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    this.rules.push({
      rule,
      pattern: new RegExp(`^${escaped}$`, 'i'),
      remaining: rule.count ?? Infinity,
    });
  }

  clear(): void {
    this.rules = [];
  }

  /** First matching rule that fires for this request, or null. */
  decide(method: string, path: string): FaultDecision | null {
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!active.pattern.test(path)) continue;
      if (rule.probability !== undefined && this.rnd() >= rule.probability) continue;
      active.remaining--;
      return {
        latencyMs: rule.latencyMs ?? 0,
        status: rule.status ?? (rule.afterAccept ? 504 : null),
        retryAfterSeconds: rule.retryAfterSeconds ?? null,
        drop: rule.drop ?? false,
        afterAccept: rule.afterAccept ?? false,
      };
    }
    return null;
  }
}
