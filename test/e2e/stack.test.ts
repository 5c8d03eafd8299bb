import { describe, expect, it } from 'vitest';

import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

describe('the product on loopback (sandbox + Azurite + local host)', () => {
  const stack = useStack(() => startTestStack());

  it('reports healthy dependencies', async () => {
    const response = await stack.api('/api/health');
    const body = (await response.json()) as {
      status: string;
      checks: Record<string, { ok: boolean }>;
    };
    expect(body.checks.graph?.ok).toBe(true);
    expect(body.checks.identity?.ok).toBe(true);
    expect(response.status).toBe(200);
  });

  it('connects a sandbox mailbox and shows it only to its own service', async () => {
    await stack.connect('c1');
    const mine = await stack.api('/api/credentials/c1');
    expect(mine.status).toBe(200);
    const view = (await mine.json()) as Record<string, unknown>;
    expect(view).toMatchObject({ credentialId: 'c1', serviceId: 'svc', status: 'active' });
    expect(JSON.stringify(view)).not.toMatch(/token"\s*:\s*"[^"]{20,}/i);
    const theirs = await stack.api('/api/credentials/c1', { serviceId: 'other' });
    expect(theirs.status).toBe(404);
  });
});
