"""Runs the interop scenario against an MCP stdio server with the Python SDK client
and prints one JSON object describing what the client saw.

usage: python scenario.py <legacy|auto|2026-07-28> -- CMD [ARGS...]     (stdio)
       python scenario.py <legacy|auto|2026-07-28> --http URL             (Streamable HTTP)
  The mode is passed straight to mcp.Client(mode=...):
  legacy      initialize handshake only
  auto        server/discover probe, falls back to initialize
  2026-07-28  pinned: no handshake at all, per-request _meta
"""

import asyncio
import json
import os
import sys
import traceback

from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

MODES = ("legacy", "auto", "2026-07-28")

CALLS = [
    ("lookup_stock", {"sku": "ABC123"}),
    ("lookup_stock", {"sku": "abc"}),
    ("lookup_stock", {"sku": "NOPE00"}),
    ("list_warehouses", {}),
    ("adjust_stock", {"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 5}),
    ("no_such_tool", {}),
]


async def run(mode: str, target: str, command: list[str]) -> dict:
    key = os.environ.get("MCP_CLIENT_KEY")
    if target == "--http" and key:
        # The client's API key travels as a bearer token on every request.
        headers = {"Authorization": f"Bearer {key}"}
        params = streamable_http_client(command[0], http_client=create_mcp_http_client(headers=headers))
    elif target == "--http":
        params = command[0]  # a URL string selects the Streamable HTTP transport
    else:
        # The child only inherits HOME, LOGNAME, PATH, SHELL, TERM and USER, so the server's log
        # level and the client's API key have to be forwarded explicitly. Its stderr goes to ours.
        env = {k: os.environ[k] for k in ("MCP_LOG__LEVEL", "MCP_CLIENT_KEY") if os.environ.get(k)}
        params = StdioServerParameters(command=command[0], args=command[1:], env=env)
    # Without a read timeout the Python client waits forever on a silent server; 60 s matches the TS clients.
    async with Client(params, mode=mode, read_timeout_seconds=60) as client:
        info = client.server_info
        out = {
            "client": f"python-{mode}",
            "protocolVersion": client.protocol_version,
            "serverInfo": info.model_dump(mode="json", by_alias=True, exclude_none=True) if info else None,
            # Listing first also gives the client the outputSchemas it validates results against.
            "tools": [
                t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await client.list_tools()).tools
            ],
            "calls": [],
        }
        for tool, arguments in CALLS:
            call = {"tool": tool, "arguments": arguments, "isError": False, "structuredContent": None, "text": "",
                    "rpcError": None}
            try:
                res = await client.call_tool(tool, arguments)
                call["isError"] = res.is_error is True
                call["structuredContent"] = res.structured_content
                call["text"] = "".join(c.text for c in res.content if c.type == "text")
            except MCPError as e:
                # A JSON-RPC error response is data for this scenario; anything else is a failure,
                # including the client's own MCPErrors for a dead connection or a timeout.
                if e.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
                    raise
                call["rpcError"] = {"code": e.code, "message": e.message}
            out["calls"].append(call)
        return out


def main() -> int:
    argv = sys.argv[1:]
    if len(argv) < 3 or argv[0] not in MODES or argv[1] not in ("--", "--http"):
        print(f"usage: python scenario.py <{'|'.join(MODES)}> (-- CMD [ARGS...] | --http URL)", file=sys.stderr)
        return 2
    try:
        out = asyncio.run(run(argv[0], argv[1], argv[2:]))
    except Exception as e:  # anyio wraps failures in ExceptionGroups; print them whole
        print(f"scenario.py ({argv[0]}) failed:", file=sys.stderr)
        traceback.print_exception(e, file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
