// A live inventory server seen by the TypeScript SDK v1 client (@modelcontextprotocol/sdk) in the
// handshake era: list changes and resource updates as notifications. Prints one JSON object of what the
// client saw; tests/tests/interop_live.rs asserts on it.
//
// usage: node live.mjs -- CMD [ARGS...]     (stdio: one process, one client does everything)
//        node live.mjs --http URL            (Streamable HTTP: a second client, the "admin", changes the
//                                             server; the first only listens and lists)
//
// The scenario: the listener subscribes to stock://ABC123; the admin adjusts WIDGET9 (no update for the
// listener) and then ABC123 (notifications/resources/updated for stock://ABC123); the admin turns
// maintenance on (notifications/tools/list_changed, and adjust_stock is gone from the listener's next
// tools/list) and off again (another list change, and adjust_stock is back). Every wait is bounded.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  McpError,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

/** How long any one expected event may take before the scenario fails. */
const WAIT_MS = 10_000;

const [sep, command, ...args] = process.argv.slice(2);
if (!['--', '--http'].includes(sep) || !command) {
  console.error('usage: node live.mjs (-- CMD [ARGS...] | --http URL)');
  process.exit(2);
}
const http = sep === '--http';
const key = process.env.MCP_CLIENT_KEY;

/** Every notification the listener received, in order, with the step it arrived in. */
const seen = [];
let step = 'connect';
let wake = () => {};

/** Waits until `ready()` holds, at most WAIT_MS; fails naming what it waited for. */
async function until(what, ready) {
  const deadline = Date.now() + WAIT_MS;
  while (!ready()) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; notifications seen: ${JSON.stringify(seen)}`);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(left, 100));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const count = (method) => seen.filter((n) => n.method === method).length;

/** Whether the listener's standalone GET stream (Streamable HTTP) was answered with a stream. */
let getStreamOpen = false;

function transport(name) {
  if (!http) {
    // The child gets only HOME, LOGNAME, PATH, SHELL, TERM and USER: hand it the key and the log level.
    const env = Object.fromEntries(
      ['MCP_LOG__LEVEL', 'MCP_CLIENT_KEY'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
    );
    return new StdioClientTransport({ command, args, env });
  }
  const requestInit = key ? { headers: { Authorization: `Bearer ${key}` } } : undefined;
  // The listener's notifications arrive on the GET stream the client opens after initialize, on its own
  // time: note when the server answered it, so nothing is changed before the listener can hear it.
  const watched = async (url, init) => {
    const response = await fetch(url, init);
    if (name === 'listener' && init?.method === 'GET' && response.ok) getStreamOpen = true;
    return response;
  };
  return new StreamableHTTPClientTransport(new URL(command), { requestInit, fetch: watched });
}

/** A JSON-RPC error answer is data here; anything else (a dead connection -32000, a timeout -32001) fails. */
function rpcError(e) {
  if (!(e instanceof McpError) || [-32000, -32001].includes(e.code)) throw e;
  return { code: e.code, message: String(e.message).replace(/^MCP error -?\d+: /, '') };
}

async function call(client, name, toolArgs) {
  try {
    const res = await client.callTool({ name, arguments: toolArgs });
    const text = (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
    return { isError: res.isError === true, structuredContent: res.structuredContent ?? null, text, rpcError: null };
  } catch (e) {
    return { isError: null, structuredContent: null, text: '', rpcError: rpcError(e) };
  }
}

async function read(client, uri) {
  try {
    const res = await client.readResource({ uri });
    return { contents: res.contents.map((c) => ({ ...c, json: c.text ? JSON.parse(c.text) : null })), rpcError: null };
  } catch (e) {
    return { contents: null, rpcError: rpcError(e) };
  }
}

const toolNames = async (client) => (await client.listTools()).tools.map((t) => t.name).sort();

const listener = new Client({ name: 'interop-live-listener', version: '0.1.0' }, { capabilities: {} });
const record = (notification) => {
  seen.push({ step, method: notification.method, params: notification.params ?? null });
  wake();
};
// The handlers this scenario is about, and a fallback that records anything else the server sends.
listener.setNotificationHandler(ToolListChangedNotificationSchema, record);
listener.setNotificationHandler(ResourceUpdatedNotificationSchema, record);
listener.fallbackNotificationHandler = async (notification) => record(notification);

let admin = listener;
try {
  await listener.connect(transport('listener'));
  if (http) {
    admin = new Client({ name: 'interop-live-admin', version: '0.1.0' }, { capabilities: {} });
    await admin.connect(transport('admin'));
    await until('the listener\'s GET stream to open', () => getStreamOpen);
  }
  const out = {
    transport: http ? 'streamable-http' : 'stdio',
    capabilities: listener.getServerCapabilities() ?? null,
    toolsBefore: await toolNames(listener),
    templates: (await listener.listResourceTemplates()).resourceTemplates,
  };

  step = 'resources';
  out.readBefore = await read(listener, 'stock://ABC123');
  out.readUnknown = await read(listener, 'stock://NOPE00');
  await listener.subscribeResource({ uri: 'stock://ABC123' });
  out.adjustOther = await call(admin, 'adjust_stock', { sku: 'WIDGET9', warehouse_id: 'WH-EAST', delta: 1 });
  out.adjust = await call(admin, 'adjust_stock', { sku: 'ABC123', warehouse_id: 'WH-WEST', delta: 3 });
  await until('notifications/resources/updated', () => count('notifications/resources/updated') > 0);
  out.readAfter = await read(listener, 'stock://ABC123');

  step = 'maintenance-on';
  out.maintenanceOn = await call(admin, 'set_maintenance', { enabled: true });
  await until('notifications/tools/list_changed after set_maintenance(true)', () =>
    seen.some((n) => n.step === step && n.method === 'notifications/tools/list_changed'),
  );
  out.toolsDuring = await toolNames(listener);
  out.adjustDuring = await call(admin, 'adjust_stock', { sku: 'ABC123', warehouse_id: 'WH-WEST', delta: 1 });

  step = 'maintenance-off';
  out.maintenanceOff = await call(admin, 'set_maintenance', { enabled: false });
  await until('notifications/tools/list_changed after set_maintenance(false)', () =>
    seen.some((n) => n.step === step && n.method === 'notifications/tools/list_changed'),
  );
  out.toolsAfter = await toolNames(listener);
  out.notifications = seen;
  console.log(JSON.stringify(out, null, 2));
} catch (e) {
  console.error('live.mjs failed:', e?.stack ?? e);
  process.exitCode = 1;
} finally {
  if (admin !== listener) await admin.close().catch(() => {});
  await listener.close().catch(() => {});
}
