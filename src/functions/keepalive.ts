import { type CredentialService } from '../credentials/service';
import { type TimerFunctionDefinition } from '../http/definitions';

/**
 * `credentialKeepAlive`: refreshes credentials idle for KEEPALIVE_IDLE_DAYS so a refresh token never
 * dies of the 90-day inactivity limit; logs those that need reconnecting with their connect URL.
 */
export function keepAliveFunction(
  credentials: CredentialService,
  schedule: string,
): TimerFunctionDefinition {
  return {
    kind: 'timer',
    name: 'credentialKeepAlive',
    schedule,
    useMonitor: true,
    async handler() {
      await credentials.keepAlive();
    },
  };
}
