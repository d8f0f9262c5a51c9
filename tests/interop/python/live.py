"""A live inventory server seen by the Python SDK client in 2026-07-28 mode: `Client.listen(...)` streams
(`subscriptions/listen`) that hear list changes and resource updates. Prints one JSON object of what the
client saw; tests/tests/interop_live.rs asserts on it.

usage: python live.py -- CMD [ARGS...]     (stdio: one process, one client does everything)
       python live.py --http URL            (Streamable HTTP: a second client, the "admin", changes the server)

Two listeners are open at once: "loud" asks for tool list changes and stock://ABC123, "quiet" only for
stock://WIDGET9. The admin adjusts WIDGET9 (quiet hears it, loud must not) and ABC123 (loud hears it), turns
maintenance on (loud hears the tool list change, and adjust_stock is gone from the next tools/list; quiet,
which did not ask for list changes, must hear nothing of it within QUIET_S) and off again (adjust_stock is
back). Every frame the client receives is also recorded raw (`frames`, with the subscription id the server
stamped in `_meta`), so the filter is checked on the wire, not only after the client's own filtering.
"""

import asyncio
import json
import os
import sys
import traceback
from contextlib import AsyncExitStack

import anyio
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated, Subscription, ToolsListChanged
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.subscriptions import SUBSCRIPTION_ID_META_KEY
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

WAIT_S = 10.0
"""How long any one expected event may take before the scenario fails."""
QUIET_S = 2.0
"""How long the quiet listener is given to (wrongly) hear the tool list change the loud one already heard."""


def describe(event: object) -> dict:
    if isinstance(event, ResourceUpdated):
        return {"event": "resource_updated", "uri": event.uri}
    if isinstance(event, ToolsListChanged):
        return {"event": "tools_list_changed"}
    return {"event": type(event).__name__}


async def next_event(sub: Subscription, what: str) -> dict:
    """The listener's next event, within WAIT_S; fails naming what was awaited."""
    try:
        with anyio.fail_after(WAIT_S):
            return describe(await anext(sub))
    except TimeoutError:
        raise TimeoutError(f"no event within {WAIT_S} s on {sub.subscription_id!r} while waiting for {what}") from None


async def pending_within(sub: Subscription, seconds: float) -> dict | None:
    """The listener's next event if one comes within `seconds`, else None."""
    with anyio.move_on_after(seconds):
        return describe(await anext(sub))
    return None


def params(target: str, command: list[str]):
    key = os.environ.get("MCP_CLIENT_KEY")
    if target == "--http":
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return streamable_http_client(command[0], http_client=create_mcp_http_client(headers=headers))
    # The child inherits only HOME, LOGNAME, PATH, SHELL, TERM and USER: hand it the key and the log level.
    env = {k: os.environ[k] for k in ("MCP_LOG__LEVEL", "MCP_CLIENT_KEY") if os.environ.get(k)}
    return StdioServerParameters(command=command[0], args=command[1:], env=env)


async def call(client: Client, tool: str, arguments: dict) -> dict:
    try:
        res = await client.call_tool(tool, arguments)
    except MCPError as e:
        if e.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
            raise
        return {"isError": None, "structuredContent": None, "text": "", "rpcError": {"code": e.code, "message": e.message}}
    text = "".join(c.text for c in res.content if c.type == "text")
    return {"isError": res.is_error is True, "structuredContent": res.structured_content, "text": text, "rpcError": None}


async def tool_names(client: Client) -> list[str]:
    return sorted(t.name for t in (await client.list_tools()).tools)


async def run(target: str, command: list[str]) -> dict:
    frames: list[dict] = []

    async def record(message) -> None:
        if isinstance(message, Exception):
            frames.append({"exception": repr(message)})
            return
        raw = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        meta = (raw.get("params") or {}).get("_meta") or {}
        frames.append({"method": raw.get("method"), "params": raw.get("params"),
                       "subscriptionId": meta.get(SUBSCRIPTION_ID_META_KEY)})

    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            Client(params(target, command), mode="2026-07-28", read_timeout_seconds=60, message_handler=record)
        )
        admin = client
        if target == "--http":
            admin = await stack.enter_async_context(Client(params(target, command), mode="2026-07-28",
                                                           read_timeout_seconds=60))
        out: dict = {"transport": "streamable-http" if target == "--http" else "stdio",
                     "protocolVersion": client.protocol_version,
                     "toolsBefore": await tool_names(client)}
        loud = await stack.enter_async_context(
            client.listen(tools_list_changed=True, resource_subscriptions=["stock://ABC123"]))
        quiet = await stack.enter_async_context(client.listen(resource_subscriptions=["stock://WIDGET9"]))
        out["loud"] = {"id": loud.subscription_id,
                       "honored": loud.honored.model_dump(mode="json", by_alias=True, exclude_none=True)}
        out["quiet"] = {"id": quiet.subscription_id,
                        "honored": quiet.honored.model_dump(mode="json", by_alias=True, exclude_none=True)}

        out["adjustOther"] = await call(admin, "adjust_stock", {"sku": "WIDGET9", "warehouse_id": "WH-EAST", "delta": 1})
        out["quietFirst"] = await next_event(quiet, "resources/updated of stock://WIDGET9")
        out["adjust"] = await call(admin, "adjust_stock", {"sku": "ABC123", "warehouse_id": "WH-WEST", "delta": 3})
        out["loudFirst"] = await next_event(loud, "resources/updated of stock://ABC123")

        out["maintenanceOn"] = await call(admin, "set_maintenance", {"enabled": True})
        out["loudOn"] = await next_event(loud, "tools/list_changed after set_maintenance(true)")
        out["toolsDuring"] = await tool_names(client)
        out["adjustDuring"] = await call(admin, "adjust_stock", {"sku": "ABC123", "warehouse_id": "WH-WEST", "delta": 1})
        # The loud listener heard the change: the server sent it. The quiet one must not hear it.
        out["quietDuring"] = await pending_within(quiet, QUIET_S)

        out["maintenanceOff"] = await call(admin, "set_maintenance", {"enabled": False})
        out["loudOff"] = await next_event(loud, "tools/list_changed after set_maintenance(false)")
        out["toolsAfter"] = await tool_names(client)
        out["frames"] = frames
        return out


def main() -> int:
    argv = sys.argv[1:]
    if len(argv) < 2 or argv[0] not in ("--", "--http"):
        print("usage: python live.py (-- CMD [ARGS...] | --http URL)", file=sys.stderr)
        return 2
    try:
        out = asyncio.run(run(argv[0], argv[1:]))
    except Exception as e:  # anyio wraps failures in ExceptionGroups; print them whole
        print("live.py failed:", file=sys.stderr)
        traceback.print_exception(e, file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
