/** `npm run sandbox -- --port 7072 [--seed 1] [--messages 150] [--latency 0] [--service 0] [--auto-consent]`: the sandbox alone. */
import { parseArgs } from 'node:util';
import { startSandbox } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7072' },
      seed: { type: 'string', default: '1' },
      messages: { type: 'string', default: '150' },
      latency: { type: 'string', default: '0' },
      service: { type: 'string', default: '0' },
      'auto-consent': { type: 'boolean', default: false },
    },
  });
  const sandbox = await startSandbox({
    port: Number(values.port),
    seed: Number(values.seed),
    messagesPerUser: Number(values.messages),
    latencyMs: Number(values.latency),
    serviceMs: Number(values.service),
    autoConsent: values['auto-consent'],
  });
  console.log(`Graph sandbox listening on ${sandbox.url}`);
  console.log(`  GRAPH_BASE_URL=${sandbox.url}`);
  console.log(`  AUTHORITY_HOST=${sandbox.url}`);
  console.log(`  TENANT_ID=${sandbox.tenantId}`);
  console.log(`  CLIENT_ID=${sandbox.clientId}`);
  console.log(`  CLIENT_SECRET=${sandbox.clientSecret}`);
  console.log('  users:');
  for (const u of sandbox.users)
    console.log(`    ${u.userPrincipalName}  ${u.displayName}  ${u.id}`);
  console.log(`  control API: ${sandbox.url}/_sandbox/info`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
