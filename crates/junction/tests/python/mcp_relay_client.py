"""Two `mcp` Python SDK sessions on the gateway's /mcp at once, each answering the upstream's
sampling and roots requests in its own way: each must get its own answers back, never the
other's.

Usage: mcp_relay_client.py <gateway url> <key>. Prints one JSON object with what each session
saw; any failure raises.
"""

import asyncio
import json
import sys

import mcp.types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def one_session(base: str, key: str, who: str, started: asyncio.Barrier) -> dict:
    asked = []

    async def sampling(context, params):
        asked.append(params.messages[0].content.text)
        await started.wait()  # both sessions' calls are in flight together
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"answer from {who}"),
            model=f"model-{who}",
            stop_reason="endTurn",
        )

    async def roots(context):
        return types.ListRootsResult(roots=[types.Root(uri=f"file:///workspace/{who}", name=who)])

    headers = {"x-litellm-api-key": f"Bearer {key}"}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(f"{base}/mcp", http_client=http) as streams:
            async with ClientSession(
                streams[0], streams[1], sampling_callback=sampling, list_roots_callback=roots
            ) as session:
                await session.initialize()
                sampled = await session.call_tool(
                    "everything-trigger-sampling-request",
                    {"prompt": f"question of {who}", "maxTokens": 20},
                )
                assert not sampled.is_error, sampled
                rooted = await session.call_tool("everything-get-roots-list", {})
                return {"asked": asked, "sampled": text_of(sampled), "roots": text_of(rooted)}


async def without_sampling(base: str, key: str) -> dict:
    """A session that cannot sample: the upstream's request is declined, and the tool says so."""
    headers = {"x-litellm-api-key": f"Bearer {key}"}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(f"{base}/mcp", http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                try:
                    result = await session.call_tool(
                        "everything-trigger-sampling-request", {"prompt": "anyone?"}
                    )
                    return {"is_error": bool(result.is_error), "text": text_of(result)}
                except Exception as error:  # a JSON-RPC error is an acceptable refusal too
                    return {"is_error": True, "text": str(error)}


async def main(base: str, key: str) -> None:
    started = asyncio.Barrier(2)
    a, b = await asyncio.gather(
        one_session(base, key, "alice", started), one_session(base, key, "bob", started)
    )
    carol = await without_sampling(base, key)
    print(json.dumps({"alice": a, "bob": b, "carol": carol}))


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]), 90))
