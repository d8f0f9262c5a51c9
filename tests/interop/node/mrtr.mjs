// Multi-round-trip requests (SEP-2322) as the official TypeScript v2 client drives them, pinned to
// 2026-07-28, against the conformance example: its input-required driver meets each `input_required`
// answer by calling the handlers registered here and retrying with `inputResponses` and the echoed
// `requestState`. Over HTTP it also calls `test_custom_headers`, whose `x-mcp-header` arguments the client
// mirrors into `Mcp-Param-*` headers the server checks (SEP-2243). Prints one JSON object with what each
// call came to and what the handlers were asked.
//
// usage: node mrtr.mjs -- CMD [ARGS...]      (stdio)
//        node mrtr.mjs --http URL            (Streamable HTTP)

import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const [sep, command, ...args] = process.argv.slice(2);
if (!['--', '--http'].includes(sep) || !command) {
  console.error('usage: node mrtr.mjs (-- CMD [ARGS...] | --http URL)');
  process.exit(2);
}

const transport =
  sep === '--http'
    ? new StreamableHTTPClientTransport(new URL(command))
    : new StdioClientTransport({ command, args, stderr: 'inherit' });

const client = new Client(
  { name: 'mcp-runtime-mrtr', version: '0.0.0' },
  {
    capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
    versionNegotiation: { mode: { pin: '2026-07-28' } },
  },
);

// What the server asked, in order: each handler records its request's message.
const asked = [];
const ANSWERS = { name: 'Ada', color: 'teal', context: 'tides' };
client.setRequestHandler('elicitation/create', async (request) => {
  asked.push({ method: 'elicitation/create', message: request.params.message });
  const [field, schema] = Object.entries(request.params.requestedSchema?.properties ?? {})[0] ?? ['answer', {}];
  return { action: 'accept', content: { [field]: schema.type === 'boolean' ? true : (ANSWERS[field] ?? 'yes') } };
});
client.setRequestHandler('sampling/createMessage', async (request) => {
  asked.push({ method: 'sampling/createMessage', message: request.params.messages?.[0]?.content?.text ?? null });
  return { role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'interop-model', stopReason: 'endTurn' };
});
client.setRequestHandler('roots/list', async () => {
  asked.push({ method: 'roots/list', message: null });
  return { roots: [{ uri: 'file:///srv/interop', name: 'interop' }] };
});

const text = (content) => (content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');

async function attempt(what, run) {
  const before = asked.length;
  try {
    const result = await run();
    return { what, text: result, error: null, asked: asked.slice(before) };
  } catch (e) {
    const error = e instanceof ProtocolError ? { code: e.code, message: e.message } : { message: String(e) };
    return { what, text: null, error, asked: asked.slice(before) };
  }
}

try {
  await client.connect(transport);
  const tool = (name) => attempt(name, async () => text((await client.callTool({ name, arguments: {} })).content));
  const out = {
    protocolVersion: client.getNegotiatedProtocolVersion?.() ?? null,
    results: [
      await tool('test_input_required_result_multi_round'),
      await tool('test_input_required_result_multiple_inputs'),
      await tool('test_input_required_result_request_state'),
      await attempt('test_input_required_result_prompt', async () => {
        const prompt = await client.getPrompt({ name: 'test_input_required_result_prompt', arguments: {} });
        return prompt.messages.map((m) => m.content?.text ?? '').join('');
      }),
    ],
  };
  if (sep === '--http') {
    await client.listTools(); // the client learns the tools' x-mcp-header annotations from the listing
    const headers = { region: 'eu-west-1', priority: 3, dry_run: true, query: 'SELECT 1' };
    out.results.push(
      await attempt('test_custom_headers', async () =>
        text((await client.callTool({ name: 'test_custom_headers', arguments: headers })).content),
      ),
    );
  }
  console.log(JSON.stringify(out, null, 2));
} catch (e) {
  console.error('mrtr.mjs failed:', e?.stack ?? e);
  process.exitCode = 1;
} finally {
  await client.close().catch(() => {});
}
