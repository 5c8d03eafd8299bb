/**
 * `npm start`: the whole product on this machine with zero configuration (see ./start.ts).
 * Settings come from the environment, then from local.settings.json's "Values" (like `func start`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ConfigError } from '../core/errors';
import { startLocalProduct } from './start';

const projectDir = path.resolve(__dirname, '../..');

function localSettings(): Record<string, string> {
  const file = path.join(projectDir, 'local.settings.json');
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
  return parsed.Values ?? {};
}

async function main(): Promise<void> {
  const product = await startLocalProduct({
    env: { ...localSettings(), ...process.env },
    projectDir,
  });
  console.log(product.banner);
  const shutdown = async () => {
    await product.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
