// Runs the interop scenario against an MCP stdio server with one of the TypeScript clients
// and prints one JSON object describing what the client saw.
//
// usage: node scenario.mjs <sdk|v2-legacy|v2-modern> -- CMD [ARGS...]      (stdio)
//        node scenario.mjs <sdk|v2-legacy|v2-modern> --http URL              (Streamable HTTP)
//        node scenario.mjs <sdk|v2-legacy> --sse URL                         (legacy HTTP+SSE)
//   sdk        @modelcontextprotocol/sdk v1 Client (initialize handshake)
//   v2-legacy  @modelcontextprotocol/client v2, versionNegotiation mode 'legacy' (initialize handshake)
//   v2-modern  @modelcontextprotocol/client v2, pinned to 2026-07-28 (server/discover, per-request _meta)

const CLIENTS = {
  sdk: null,
  'v2-legacy': { mode: 'legacy' },
  'v2-modern': { mode: { pin: '2026-07-28' } },
};

const CALLS = [
  ['lookup_stock', { sku: 'ABC123' }],
  ['lookup_stock', { sku: 'abc' }],
  ['lookup_stock', { sku: 'NOPE00' }],
  ['list_warehouses', {}],
  ['adjust_stock', { sku: 'WIDGET9', warehouse_id: 'WH-EAST', delta: 5 }],
  ['no_such_tool', {}],
];

const [clientName, sep, command, ...args] = process.argv.slice(2);
if (!(clientName in CLIENTS) || !['--', '--http', '--sse'].includes(sep) || !command) {
  console.error(`usage: node scenario.mjs <${Object.keys(CLIENTS).join('|')}> (-- CMD [ARGS...] | --http URL | --sse URL)`);
  process.exit(2);
}

const v1 = clientName === 'sdk';
const { Client } = await import(v1 ? '@modelcontextprotocol/sdk/client/index.js' : '@modelcontextprotocol/client');
const { StdioClientTransport } = await import(
  v1 ? '@modelcontextprotocol/sdk/client/stdio.js' : '@modelcontextprotocol/client/stdio'
);
const { StreamableHTTPClientTransport, SSEClientTransport } = v1
  ? {
      ...(await import('@modelcontextprotocol/sdk/client/streamableHttp.js')),
      ...(await import('@modelcontextprotocol/sdk/client/sse.js')),
    }
  : await import('@modelcontextprotocol/client');
// A JSON-RPC error response is data for this scenario; anything else is a failure.
const RpcError = v1
  ? (await import('@modelcontextprotocol/sdk/types.js')).McpError
  : (await import('@modelcontextprotocol/client')).ProtocolError;

// The transports only hand HOME, LOGNAME, PATH, SHELL, TERM and USER to the child, so the
// server's log level and the client's API key (MCP_CLIENT_KEY) have to be forwarded explicitly.
// stderr defaults to 'inherit'.
const env = Object.fromEntries(
  ['MCP_LOG__LEVEL', 'MCP_CLIENT_KEY'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
);
// Over HTTP the same key travels as a bearer token on every request (the SSE GET included).
const requestInit = process.env.MCP_CLIENT_KEY
  ? { headers: { Authorization: `Bearer ${process.env.MCP_CLIENT_KEY}` } }
  : undefined;
const transport =
  sep === '--http'
    ? new StreamableHTTPClientTransport(new URL(command), { requestInit })
    : sep === '--sse'
      ? new SSEClientTransport(new URL(command), { requestInit })
      : new StdioClientTransport({ command, args, env });

// The v1 Client keeps the negotiated version private, but hands it to the transport's
// setProtocolVersion once the handshake succeeded (HTTP transports send it on every request):
// record it there, whatever the transport.
let v1Negotiated = null;
if (v1) {
  const set = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (version) => {
    v1Negotiated = version;
    set?.(version);
  };
}

const info = { name: `interop-${clientName}`, version: '0.1.0' };
const client = v1
  ? new Client(info, { capabilities: {} })
  : new Client(info, { capabilities: {}, versionNegotiation: CLIENTS[clientName] });

// The v1 client reports a dead connection (-32000) or a timeout (-32001) as an McpError too;
// those are failures, not answers from the server. (v2 throws SdkError for them.)
const CLIENT_SIDE_CODES = v1 ? [-32000, -32001] : [];

function rpcError(e) {
  if (!(e instanceof RpcError) || typeof e.code !== 'number' || CLIENT_SIDE_CODES.includes(e.code)) throw e;
  // The v1 client prefixes the server's message with "MCP error <code>: "; strip it so the
  // outputs of all clients compare equal.
  return { code: e.code, message: String(e.message).replace(/^MCP error -?\d+: /, '') };
}

try {
  await client.connect(transport);
  const out = {
    client: clientName,
    protocolVersion: v1 ? v1Negotiated : (client.getNegotiatedProtocolVersion() ?? null),
    serverInfo: client.getServerVersion() ?? null,
    // Listing first also makes the client validate structuredContent against outputSchema.
    tools: (await client.listTools()).tools,
    calls: [],
  };
  for (const [tool, toolArgs] of CALLS) {
    const call = { tool, arguments: toolArgs, isError: false, structuredContent: null, text: '', rpcError: null };
    try {
      const res = await client.callTool({ name: tool, arguments: toolArgs });
      call.isError = res.isError === true;
      call.structuredContent = res.structuredContent ?? null;
      call.text = (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
    } catch (e) {
      call.rpcError = rpcError(e);
    }
    out.calls.push(call);
  }
  console.log(JSON.stringify(out, null, 2));
} catch (e) {
  console.error(`scenario.mjs (${clientName}) failed:`, e?.stack ?? e);
  if (e?.data !== undefined) console.error('error data:', JSON.stringify(e.data));
  process.exitCode = 1;
} finally {
  await client.close().catch(() => {});
}
