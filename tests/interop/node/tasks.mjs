// Tasks (2025-11-25, experimental) as the TypeScript SDK v1 client (@modelcontextprotocol/sdk) drives them:
// client.experimental.tasks.callToolStream, getTask, cancelTask. Prints one JSON object of what the client
// saw; tests/tests/interop_tasks.rs asserts on it.
//
// usage: node tasks.mjs inventory (-- CMD [ARGS...] | --http URL)
//        node tasks.mjs confirm   (-- CMD [ARGS...] | --http URL)
//
// inventory  the inventory example with the owner's key (MCP_CLIENT_KEY): recount_warehouse as a streamed
//            task (taskCreated, statuses, the result), cancelled mid-way, called without a task (synchronous),
//            and lookup_stock called with a task (refused). Over HTTP a second client with another
//            principal's key (MCP_OTHER_KEY) tries to read and cancel the owner's tasks.
// confirm    the conformance example's confirm_delete: the task asks for confirmation (input_required), the
//            client's elicitation handler accepts through tasks/result, the stream ends with the result.
//
// Over stdio the server is this script's child: its stderr is kept (printed as `serverLog`, and echoed on
// this process's stderr), and MCP_LOG__LEVEL, MCP_CLIENT_KEY and INVENTORY_RECOUNT_MS are handed to it.
// Every wait is bounded.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

/** How long any one expected state may take before the scenario fails. */
const WAIT_MS = 15_000;
/** How long a whole recount takes on the server (the inventory reads the same variable). */
const RECOUNT_MS = Number(process.env.INVENTORY_RECOUNT_MS ?? 3000);

const [scenario, sep, command, ...args] = process.argv.slice(2);
if (!['inventory', 'confirm'].includes(scenario) || !['--', '--http'].includes(sep) || !command) {
  console.error('usage: node tasks.mjs <inventory|confirm> (-- CMD [ARGS...] | --http URL)');
  process.exit(2);
}
const http = sep === '--http';

const started = Date.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's stderr lines (stdio only), with when they arrived. */
const serverLog = [];
/** Every notification a client received, with the phase it arrived in. */
const notifications = [];
let phase = 'connect';

/** Whatever the client saw of an error: the server's JSON-RPC error, or (code null) a client-side failure. */
function errorOf(e) {
  if (e instanceof McpError && ![-32000, -32001].includes(e.code)) {
    return { code: e.code, message: String(e.message).replace(/^MCP error -?\d+: /, '') };
  }
  return { code: null, message: String(e?.stack ?? e) };
}

/** The fields of a task this scenario reads. */
const taskOf = (t) => ({
  taskId: t.taskId,
  status: t.status,
  statusMessage: t.statusMessage ?? null,
  ttl: t.ttl,
  pollInterval: t.pollInterval ?? null,
  createdAt: t.createdAt,
  lastUpdatedAt: t.lastUpdatedAt,
});

/** A message of callToolStream as JSON. */
function messageOf(m, at) {
  const out = { type: m.type, at };
  if (m.task) out.task = taskOf(m.task);
  if (m.result) out.result = m.result;
  if (m.error) out.error = errorOf(m.error);
  return out;
}

function transport(key) {
  if (!http) {
    // The child gets only HOME, LOGNAME, PATH, SHELL, TERM and USER: hand it the key, the log level and the
    // recount's length; keep its stderr to see the handler stop.
    const env = Object.fromEntries(
      ['MCP_LOG__LEVEL', 'INVENTORY_RECOUNT_MS'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
    );
    if (key) env.MCP_CLIENT_KEY = key;
    const t = new StdioClientTransport({ command, args, env, stderr: 'pipe' });
    let partial = '';
    t.stderr?.on('data', (chunk) => {
      process.stderr.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop();
      for (const line of lines) serverLog.push({ at: Date.now() - started, phase, line });
    });
    return t;
  }
  const requestInit = key ? { headers: { Authorization: `Bearer ${key}` } } : undefined;
  return new StreamableHTTPClientTransport(new URL(command), { requestInit });
}

/** A connected v1 client; its `negotiated()` is the version it agreed on (the transport is told it). */
async function connect(name, key, capabilities = {}) {
  const client = new Client({ name, version: '0.1.0' }, { capabilities });
  client.fallbackNotificationHandler = async (n) =>
    notifications.push({ client: name, phase, at: Date.now() - started, method: n.method, params: n.params ?? null });
  const t = transport(key);
  const set = t.setProtocolVersion?.bind(t);
  const info = { negotiated: null };
  t.setProtocolVersion = (version) => {
    info.negotiated = version;
    set?.(version);
  };
  await client.connect(t);
  return Object.assign(client, { negotiated: () => info.negotiated });
}

/**
 * Starts callToolStream and collects its messages in the background: `messages` fills as they come,
 * `done` settles when the stream ended, `created` when the task was created (its id).
 */
function stream(client, params, options) {
  const messages = [];
  let onCreated;
  const created = new Promise((resolve) => {
    onCreated = resolve;
  });
  const done = (async () => {
    try {
      for await (const m of client.experimental.tasks.callToolStream(params, CallToolResultSchema, options)) {
        messages.push(messageOf(m, Date.now() - started));
        if (m.type === 'taskCreated') onCreated(m.task.taskId);
      }
    } catch (e) {
      messages.push({ type: 'thrown', error: errorOf(e) });
    }
    onCreated(null);
    return messages;
  })();
  return { messages, created, done };
}

/** Waits until `ready()` holds, at most WAIT_MS; fails naming what it waited for. */
async function until(what, ready, every = 50) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await ready();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await sleep(every);
  }
}

/** What `promise` settles to, waiting at most WAIT_MS and a recount. */
async function bounded(what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS + RECOUNT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A call that may fail: its answer, or the error. */
async function attempt(call) {
  try {
    return { ok: await call(), error: null };
  } catch (e) {
    return { ok: null, error: errorOf(e) };
  }
}

/** The aisle a status message reports counted ("aisle N of 6 counted"), or 0. */
const aisle = (task) => Number(/aisle (\d+) of/.exec(task?.statusMessage ?? '')?.[1] ?? 0);

async function inventory() {
  const owner = await connect('tasks-owner', process.env.MCP_CLIENT_KEY);
  const out = {
    scenario,
    transport: http ? 'streamable-http' : 'stdio',
    recountMs: RECOUNT_MS,
    protocolVersion: owner.negotiated(),
    capabilities: owner.getServerCapabilities() ?? null,
    // Listing first tells callToolStream which tools take a task (execution.taskSupport).
    tools: (await owner.listTools()).tools,
  };

  // A streamed task from creation to result.
  phase = 'stream';
  const streamed = stream(owner, { name: 'recount_warehouse', arguments: { warehouse_id: 'WH-EAST' } });
  out.stream = await bounded('the streamed recount', streamed.done);
  const completedId = await streamed.created;
  // A completed task cannot be cancelled (-32602 in 2025-11-25); it reads completed still.
  if (completedId) {
    out.cancelCompleted = await attempt(async () => taskOf(await owner.experimental.tasks.cancelTask(completedId)));
    out.completedAfter = taskOf(await owner.experimental.tasks.getTask(completedId));
  }

  // Cancelled once it counted an aisle: the stream ends, the task reads cancelled, and stays so.
  phase = 'cancel';
  const cancelled = stream(owner, { name: 'recount_warehouse', arguments: { warehouse_id: 'WH-WEST' } });
  const id = await bounded('the task to be created', cancelled.created);
  if (!id) throw new Error(`no task created for the recount to cancel: ${JSON.stringify(cancelled.messages)}`);
  out.cancel = { taskId: id };
  out.cancel.before = taskOf(
    await until('an aisle counted', async () => {
      const task = await owner.experimental.tasks.getTask(id);
      return task.status !== 'working' || aisle(task) >= 1 ? task : null;
    }),
  );
  const cancelAt = Date.now() - started;
  out.cancel.at = cancelAt;
  const answer = await attempt(() => owner.experimental.tasks.cancelTask(id));
  phase = 'after-cancel';
  out.cancel.answer = answer.ok ? taskOf(answer.ok) : null;
  out.cancel.answerError = answer.error;
  out.cancel.after = taskOf(await owner.experimental.tasks.getTask(id));
  out.cancel.stream = await bounded('the cancelled stream to end', cancelled.done);
  // Long enough for the recount to have finished, had it not stopped.
  await sleep(RECOUNT_MS + 500);
  out.cancel.later = taskOf(await owner.experimental.tasks.getTask(id));
  out.cancel.cancelAgain = await attempt(async () => taskOf(await owner.experimental.tasks.cancelTask(id)));

  // Another principal: neither reads nor cancels the owner's tasks, running or cancelled.
  if (http && process.env.MCP_OTHER_KEY) {
    phase = 'other';
    const other = await connect('tasks-other', process.env.MCP_OTHER_KEY);
    const running = stream(owner, { name: 'recount_warehouse', arguments: { warehouse_id: 'WH-EAST' } });
    const runningId = await bounded('the owner\'s task to be created', running.created);
    out.other = { taskId: runningId, cancelledId: id };
    out.other.get = await attempt(async () => taskOf(await other.experimental.tasks.getTask(runningId)));
    out.other.cancel = await attempt(async () => taskOf(await other.experimental.tasks.cancelTask(runningId)));
    out.other.list = await attempt(async () => (await other.experimental.tasks.listTasks()).tasks.map(taskOf));
    out.other.getCancelled = await attempt(async () => taskOf(await other.experimental.tasks.getTask(id)));
    out.other.cancelCancelled = await attempt(async () => taskOf(await other.experimental.tasks.cancelTask(id)));
    out.other.ownerStream = await bounded('the owner\'s recount', running.done);
    out.other.ownerCancelled = taskOf(await owner.experimental.tasks.getTask(id));
    out.other.ownerList = (await owner.experimental.tasks.listTasks()).tasks.map(taskOf);
    await other.close().catch(() => {});
  }

  // Without a task: the plain answer, after the whole recount.
  phase = 'sync';
  const syncStart = Date.now();
  const sync = await attempt(() =>
    owner.callTool({ name: 'recount_warehouse', arguments: { warehouse_id: 'WH-EAST' } }),
  );
  out.sync = { result: sync.ok, error: sync.error, elapsedMs: Date.now() - syncStart };

  // With a task to a tool that takes none: through the SDK's stream, and as a raw request.
  phase = 'forbidden';
  const lookup = { name: 'lookup_stock', arguments: { sku: 'ABC123' } };
  out.forbidden = {
    stream: await bounded('the refused stream', stream(owner, lookup, { task: {} }).done),
    raw: await attempt(() =>
      owner.request({ method: 'tools/call', params: { ...lookup, task: {} } }, CallToolResultSchema),
    ),
  };

  phase = 'close';
  await owner.close().catch(() => {});
  return out;
}

async function confirm() {
  const elicitations = [];
  const client = await connect('tasks-confirm', process.env.MCP_CLIENT_KEY, { elicitation: {} });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicitations.push({ phase, at: Date.now() - started, params: request.params });
    return { action: 'accept', content: { confirm: true } };
  });
  const out = {
    scenario,
    transport: http ? 'streamable-http' : 'stdio',
    protocolVersion: client.negotiated(),
    capabilities: client.getServerCapabilities() ?? null,
    tools: (await client.listTools()).tools,
  };
  phase = 'stream';
  const run = stream(client, { name: 'confirm_delete', arguments: { filename: 'report.txt' } });
  out.stream = await bounded('the confirm_delete stream', run.done);
  out.elicitations = elicitations;
  phase = 'close';
  await client.close().catch(() => {});
  return out;
}

try {
  const out = scenario === 'inventory' ? await inventory() : await confirm();
  // The server's last lines (stdio: it exits when the client closes) may still be on their way.
  await sleep(http ? 0 : 200);
  out.notifications = notifications;
  out.serverLog = serverLog;
  console.log(JSON.stringify(out, null, 2));
} catch (e) {
  console.error(`tasks.mjs (${scenario}) failed:`, e?.stack ?? e);
  process.exitCode = 1;
}
// A client left open (a failure) must not keep the process alive.
process.exit();
