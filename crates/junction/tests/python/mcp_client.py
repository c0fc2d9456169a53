"""The official `mcp` Python SDK against the gateway's /mcp endpoint.

Usage: mcp_client.py <gateway url> <key>. Prints ALL OK when every check passed; any failure
raises, so the Rust test sees the traceback. The key goes in `x-litellm-api-key` with a
`Bearer ` prefix, as LiteLLM's docs configure MCP clients.
"""

import asyncio
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(base: str, key: str) -> None:
    headers = {"x-litellm-api-key": f"Bearer {key}"}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(f"{base}/mcp", http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
                names = [tool.name for tool in listed.tools]
                assert "everything-echo" in names, names
                assert "clock-get_current_time" in names, names
                echo = next(t for t in listed.tools if t.name == "everything-echo")
                assert "message" in echo.input_schema["properties"], echo.input_schema
                result = await session.call_tool("everything-echo", {"message": "hi from python"})
                assert not result.is_error, result
                text = result.content[0].text
                assert "hi from python" in text, text
    print("ALL OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
