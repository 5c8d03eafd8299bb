import { azureSdk } from '../../core/azure-sdk';
import { type Logger } from '../../core/logger';
import { type Readers } from '../../graph/read';
import { type DraftService } from '../../mail/drafts';
import { type MessageActions } from '../../mail/message-actions';
import { type SendService } from '../../mail/send-types';
import { readTools } from './read-tools';
import { result, type ToolDefinition, toolFailure } from './tool';
import { writeTools } from './write-tools';

export interface McpInvocation {
  serviceId: string;
  log: Logger;
  abortSignal: AbortSignal;
}

export interface McpEndpoint {
  readonly tools: readonly ToolDefinition[];
  /** One Streamable HTTP POST (a JSON-RPC message or batch) → its JSON answer. */
  handle(request: Request, invocation: McpInvocation): Promise<Response>;
}

/** The version is the API's (openapi.yaml `info.version`): tools change with the routes. */
const SERVER_INFO = { name: 'outlook-mail-functions', version: '1.0.0' };

const INSTRUCTIONS =
  'Outlook mail of the mailboxes connected to this service. Every tool takes a credentialId (a connected mailbox). Lists are paged: pass an answer\'s "more" back as "cursor". send_mail sends at once; ids come from search_messages and list_folders.';

/**
 * The MCP server on Streamable HTTP, stateless: each POST gets a fresh server and transport (no
 * session to keep across instances), answered as JSON. Tools call the same domain services as the
 * HTTP routes; the caller was authenticated by the edge and sees only its own service. The SDK
 * loads on the first request (src/core/azure-sdk.ts), not at start.
 */
export function createMcpEndpoint(deps: {
  readers: Readers;
  actions: MessageActions;
  send: SendService;
  drafts: DraftService;
}): McpEndpoint {
  const tools = [...readTools(deps.readers), ...writeTools(deps)];
  return {
    tools,
    async handle(request, invocation) {
      const { McpServer } = azureSdk.mcpServer();
      const { WebStandardStreamableHTTPServerTransport } = azureSdk.mcpHttp();
      const server = new McpServer(SERVER_INFO, {
        capabilities: { tools: {} },
        instructions: INSTRUCTIONS,
      });
      for (const tool of tools) {
        server.registerTool(
          tool.name,
          {
            title: tool.title,
            description: tool.description,
            inputSchema: tool.input,
            annotations: tool.annotations,
          },
          async (args, extra) => {
            const log = invocation.log.child({ tool: tool.name });
            try {
              const value = await tool.run(args, {
                serviceId: invocation.serviceId,
                callId: extra.requestId,
                log,
                abortSignal: AbortSignal.any([invocation.abortSignal, extra.signal]),
              });
              return result(value);
            } catch (error) {
              return toolFailure(error, log, tool.name);
            }
          },
        );
      }
      // No session id generator: stateless.
      const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
      await server.connect(transport);
      try {
        return await transport.handleRequest(request);
      } finally {
        await server.close();
      }
    },
  };
}
