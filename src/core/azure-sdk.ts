/**
 * The Azure SDK packages (and the MCP server SDK, which only `POST /api/mcp` needs), loaded on
 * first use. Evaluating them (identity with MSAL, the storage clients, Key Vault keys and secrets)
 * costs more than everything else a cold start does, and most
 * invocations need one or two of them, or none: registering the functions needs none at all.
 *
 * This is the only module that may load them; elsewhere they are imported as types only (lint
 * enforces it). `require` keeps each package's CommonJS build, the one the bundle carries, and
 * runs it the first time an accessor is called; Node caches it afterwards. The package build
 * (scripts/bundle.mjs) puts these packages in a file of their own that is read only then.
 */
import type * as DataTables from '@azure/data-tables';
import type * as Identity from '@azure/identity';
import type * as KeyVaultKeys from '@azure/keyvault-keys';
import type * as KeyVaultSecrets from '@azure/keyvault-secrets';
import type * as StorageBlob from '@azure/storage-blob';
import type * as StorageQueue from '@azure/storage-queue';
import type * as McpServer from '@modelcontextprotocol/sdk/server/mcp.js';
import type * as McpHttp from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/* eslint-disable @typescript-eslint/no-require-imports -- the lazy loads this module exists for */
export const azureSdk = {
  identity: (): typeof Identity => require('@azure/identity') as typeof Identity,
  keyVaultKeys: (): typeof KeyVaultKeys => require('@azure/keyvault-keys') as typeof KeyVaultKeys,
  keyVaultSecrets: (): typeof KeyVaultSecrets =>
    require('@azure/keyvault-secrets') as typeof KeyVaultSecrets,
  storageBlob: (): typeof StorageBlob => require('@azure/storage-blob') as typeof StorageBlob,
  storageQueue: (): typeof StorageQueue => require('@azure/storage-queue') as typeof StorageQueue,
  dataTables: (): typeof DataTables => require('@azure/data-tables') as typeof DataTables,
  mcpServer: (): typeof McpServer =>
    require('@modelcontextprotocol/sdk/server/mcp.js') as typeof McpServer,
  mcpHttp: (): typeof McpHttp =>
    require('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js') as typeof McpHttp,
};
/* eslint-enable @typescript-eslint/no-require-imports */
