/**
 * Entry point the Azure Functions host loads (package.json "main"). Config is validated here, once:
 * a bad setting stops start-up with a line naming it.
 */
import { app } from '@azure/functions';

import { createApp } from './app';
import { hostRegistrations } from './registration';

// Streams let a 150 MiB multipart send and attachment downloads pass without buffering whole.
app.setup({ enableHttpStream: true });

for (const registration of hostRegistrations(createApp({ env: process.env }))) {
  switch (registration.kind) {
    case 'http':
      app.http(registration.name, registration.options);
      break;
    case 'timer':
      app.timer(registration.name, registration.options);
      break;
    case 'queue':
      app.storageQueue(registration.name, registration.options);
      break;
  }
}
