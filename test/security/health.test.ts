import { describe, expect, it } from 'vitest';

import { viewHealth } from '../../src/core/health';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Issue #14, finding 5: anonymous health showed every service's credential ids and error reasons.
 * Anonymous probes get `{status}`; a caller sees its own service's objects; an operator all.
 */

const stack = useStack(
  () => startTestStack({ storage: false }),
  async () => {
    await stack.connect('mine-c1');
    await stack.connect('theirs-c9', { serviceId: 'other' });
  },
);

describe('finding 5: health', () => {
  it('anonymous: the status only, no service, credential or report', async () => {
    const response = await fetch(`${stack.host.url}/api/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['status']);
    expect(['ok', 'degraded']).toContain(body.status);
  });

  it("a caller sees the checks with its own service's objects only", async () => {
    const response = await stack.api('/api/health');
    const text = await response.text();
    const body = JSON.parse(text) as {
      checks: Record<string, { detail?: string; data?: { count: number } }>;
    };
    expect(body.checks.credentials).toMatchObject({
      detail: expect.stringMatching(/^1 credentials/),
    });
    expect(body.checks.credentials?.data?.count).toBe(1);
    expect(text).not.toContain('theirs-c9');
    expect(text).not.toContain('"other"');
    const theirs = await (await stack.api('/api/health', { serviceId: 'other' })).text();
    expect(theirs).not.toContain('mine-c1');
  });

  it('an operator sees every service', async () => {
    const report = await stack.app.services.health.report();
    const all = JSON.stringify(viewHealth(report, { kind: 'operator' }));
    expect(all).toContain('"count":2');
    const own = JSON.stringify(viewHealth(report, { kind: 'service', serviceId: 'other' }));
    expect(own).toContain('"count":1');
  });
});
