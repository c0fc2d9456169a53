"""fastmcp's `Client` with the config dict of LiteLLM's MCP docs, against `/<server>/mcp`.

Usage: fastmcp_client.py <gateway url> <key>. Prints ALL OK when every check passed.
"""

import asyncio
import sys

from fastmcp import Client


async def main(base: str, key: str) -> None:
    # LiteLLM's documented snippet, only the URL and key changed.
    config = {
        "mcpServers": {
            "everything": {
                "url": f"{base}/everything/mcp",
                "headers": {"x-litellm-api-key": f"Bearer {key}"},
            }
        }
    }
    client = Client(config)
    async with client:
        tools = await client.list_tools()
        names = [tool.name for tool in tools]
        assert "everything-echo" in names, names
        response = await client.call_tool(name="everything-echo", arguments={"message": "hi fastmcp"})
        text = response.content[0].text
        assert "hi fastmcp" in text, text
    print("ALL OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
