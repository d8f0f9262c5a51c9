"""Multi-round-trip requests (SEP-2322) as the official Python SDK client drives them, pinned to 2026-07-28,
against the conformance example: its input-required driver meets each `input_required` answer by calling
the callbacks given here and retrying with `inputResponses` and the echoed `requestState`. Over HTTP it also
calls `test_custom_headers`, whose `x-mcp-header` arguments the client mirrors into `Mcp-Param-*` headers
the server checks (SEP-2243). Prints one JSON object with what each call came to and what the callbacks
were asked.

usage: python mrtr.py -- CMD [ARGS...]     (stdio)
       python mrtr.py --http URL           (Streamable HTTP)
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

ANSWERS = {"name": "Ada", "color": "teal", "context": "tides"}


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("--", "--http"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    target, command = sys.argv[1], sys.argv[2:]
    params: Any = command[0] if target == "--http" else StdioServerParameters(command=command[0], args=command[1:])
    anyio.run(run, params, target == "--http")


async def run(params: Any, http: bool) -> None:
    asked: list[dict[str, Any]] = []

    async def elicit(_context: Any, request: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append({"method": "elicitation/create", "message": request.message})
        properties = (getattr(request, "requested_schema", None) or {}).get("properties", {})
        field, schema = next(iter(properties.items()), ("answer", {}))
        value: Any = True if schema.get("type") == "boolean" else ANSWERS.get(field, "yes")
        return types.ElicitResult(action="accept", content={field: value})

    async def sample(_context: Any, request: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        first = request.messages[0].content if request.messages else None
        asked.append({"method": "sampling/createMessage", "message": getattr(first, "text", None)})
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="Paris"), model="interop-model",
            stop_reason="endTurn")

    async def roots(_context: Any) -> types.ListRootsResult:
        asked.append({"method": "roots/list", "message": None})
        return types.ListRootsResult(roots=[types.Root(uri="file:///srv/interop", name="interop")])

    async def attempt(what: str, call: Any) -> dict[str, Any]:
        before = len(asked)
        try:
            return {"what": what, "text": await call(), "error": None, "asked": asked[before:]}
        except MCPError as e:
            return {"what": what, "text": None, "error": {"code": e.error.code, "message": e.error.message},
                    "asked": asked[before:]}

    async with Client(params, mode="2026-07-28", read_timeout_seconds=60, elicitation_callback=elicit,
                      sampling_callback=sample, list_roots_callback=roots) as client:

        async def tool(name: str) -> dict[str, Any]:
            async def call() -> str:
                result = await client.call_tool(name, {})
                return "".join(c.text for c in result.content if c.type == "text")
            return await attempt(name, call)

        async def prompt() -> str:
            result = await client.get_prompt("test_input_required_result_prompt", {})
            return "".join(getattr(m.content, "text", "") for m in result.messages)

        out = {
            "protocolVersion": client.protocol_version,
            "results": [
                await tool("test_input_required_result_multi_round"),
                await tool("test_input_required_result_multiple_inputs"),
                await tool("test_input_required_result_request_state"),
                await attempt("test_input_required_result_prompt", prompt),
            ],
        }
        if http:
            await client.list_tools()  # the client learns the tools' x-mcp-header annotations from the listing

            async def headers() -> str:
                arguments = {"region": "eu-west-1", "priority": 3, "dry_run": True, "query": "SELECT 1"}
                result = await client.call_tool("test_custom_headers", arguments)
                return "".join(c.text for c in result.content if c.type == "text")

            out["results"].append(await attempt("test_custom_headers", headers))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
