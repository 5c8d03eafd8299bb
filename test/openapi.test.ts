import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { createApp } from '../src/app';

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
}

const doc = parse(readFileSync(path.join(__dirname, '../openapi.yaml'), 'utf8')) as OpenApi;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function documented(): string[] {
  return Object.entries(doc.paths).flatMap(([route, item]) =>
    Object.keys(item)
      .filter((key) => METHODS.includes(key))
      .map((method) => `${method.toUpperCase()} /${route.replace(/^\//, '')}`),
  );
}

function served(): string[] {
  const app = createApp({
    env: {},
    localBaseUrl: 'http://127.0.0.1:7071',
    projectDir: path.join(__dirname, '..'),
  });
  return app.functions.flatMap((f) =>
    f.kind === 'http' && f.name !== 'fallback'
      ? f.methods.map((method) => `${method} /${f.route.replace(/\{(\w+)(:[^}]*)?\??\}/g, '{$1}')}`)
      : [],
  );
}

describe('openapi.yaml', () => {
  it('describes exactly the routes that are served', () => {
    expect([...served()].sort()).toEqual([...documented()].sort());
  });

  it('resolves every $ref', () => {
    const text = readFileSync(path.join(__dirname, '../openapi.yaml'), 'utf8');
    const refs = [...text.matchAll(/\$ref: '#\/components\/(\w+)\/(\w+)'/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, section, name] of refs) {
      expect(doc.components[section!]?.[name!], `${section}/${name}`).toBeDefined();
    }
  });
});
