"""Seed 001's fastmcp example against an OpenAPI (petstore) MCP server of the gateway.

The `Client` config dict of LiteLLM's MCP docs, unchanged except the URL and key; the gateway
serves the petstore spec as the MCP server `petstore_mcp` at `/petstore_mcp/mcp`.

Usage: openapi_seed_001.py <gateway url> <key>. Prints ALL OK when every check passed.
"""

import asyncio
import sys

from fastmcp import Client


def text_of(response) -> str:
    return "\n".join(getattr(block, "text", "") for block in response.content)


async def main(base: str, key: str) -> None:
    config = {
        "mcpServers": {
            "petstore": {
                "url": f"{base}/petstore_mcp/mcp",
                "headers": {"x-litellm-api-key": f"Bearer {key}"},
            }
        }
    }
    client = Client(config)
    async with client:
        tools = await client.list_tools()
        names = [tool.name for tool in tools]
        assert "petstore_mcp-getpetbyid" in names, names
        assert "petstore_mcp-findpetsbystatus" in names, names

        response = await client.call_tool(name="getpetbyid", arguments={"petId": "1"})
        text = text_of(response)
        assert "doggie" in text, text

        response = await client.call_tool(name="findpetsbystatus", arguments={"status": "available"})
        text = text_of(response)
        assert "doggie" in text, text
    print("ALL OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
