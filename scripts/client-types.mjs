// `npm run client:types`: regenerates src/client/schema.ts, the typed client's view of openapi.yaml
// (openapi-typescript, formatted like the rest of the tree). The file is checked in so the client
// builds without this step; test/client/schema.test.ts regenerates it into a temporary file and
// fails when the checked-in copy is stale. `node scripts/client-types.mjs <file>` writes elsewhere.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';

const root = path.join(import.meta.dirname, '..');
const HEADER = `/**
 * Generated from openapi.yaml by scripts/client-types.mjs (openapi-typescript): do not edit.
 * Run \`npm run client:types\` after changing openapi.yaml.
 */
`;

const ast = await openapiTS(pathToFileURL(path.join(root, 'openapi.yaml')), {
  alphabetize: false,
  exportType: false,
  // A default is what the server assumes when a field is left out: callers may leave it out.
  defaultNonNullable: false,
});
const config = JSON.parse(readFileSync(path.join(root, '.prettierrc.json'), 'utf8'));
const text = await prettier.format(HEADER + astToString(ast), { ...config, parser: 'typescript' });
const out = path.resolve(process.argv[2] ?? path.join(root, 'src', 'client', 'schema.ts'));
writeFileSync(out, text);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
