"""The official `mcp` Python SDK's legacy HTTP+SSE client (`sse_client`) against the gateway.

Usage: mcp_sse_client.py <gateway url> <key>. Prints ALL OK when every check passed; any
failure raises, so the Rust test sees the traceback. This is LiteLLM's documented usage
(`sse_client("http://localhost:4000/mcp/")`), with the key in `x-litellm-api-key`.
"""

import asyncio
import sys

from mcp import ClientSession
from mcp.client.sse import sse_client


async def tool_names(url: str, headers: dict) -> list[str]:
    async with sse_client(url, headers=headers) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            listed = await session.list_tools()
            return [tool.name for tool in listed.tools]


async def main(base: str, key: str) -> None:
    headers = {"x-litellm-api-key": f"Bearer {key}"}

    # LiteLLM's documented URL: every server, list and call.
    async with sse_client(f"{base}/mcp/", headers=headers) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert init.server_info.name == "junction", init
            listed = await session.list_tools()
            names = [tool.name for tool in listed.tools]
            assert "everything-echo" in names, names
            assert "clock-get_current_time" in names, names
            result = await session.call_tool("everything-echo", {"message": "hi over sse"})
            assert not result.is_error, result
            assert result.content[0].text == "Echo: hi over sse", result
            # Several requests in flight on one session, answered on the one stream.
            results = await asyncio.gather(
                *(session.call_tool("everything-echo", {"message": f"n{i}"}) for i in range(5))
            )
            texts = [r.content[0].text for r in results]
            assert texts == [f"Echo: n{i}" for i in range(5)], texts

    # LiteLLM's explicit SSE path, and a scoped path: only that server's tools.
    assert "clock-get_current_time" in await tool_names(f"{base}/mcp/sse", headers)
    scoped = await tool_names(f"{base}/everything/mcp", headers)
    assert scoped and all(n.startswith("everything-") for n in scoped), scoped
    # `x-mcp-servers` on the stream's GET scopes the session.
    clock = await tool_names(f"{base}/mcp", {**headers, "x-mcp-servers": "time"})
    assert clock == ["clock-convert_time", "clock-get_current_time"], clock
    print("ALL OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
