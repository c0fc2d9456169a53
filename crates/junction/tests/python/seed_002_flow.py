"""Seed 002's "LiteLLM Proxy as an MCP gateway" example, end to end against the gateway.

Usage: seed_002_flow.py <gateway url> <key> <sse|streamable> <model> <user message>

The flow of the seed: an MCP client session on the gateway lists the tools, they are converted
to OpenAI tools, sent with the user message to /v1/chat/completions, the model's tool call is
converted back to an MCP tool call and executed on the same MCP session. `sse` is the seed's
legacy SSE client on `/mcp/` and a plain chat completion; `streamable` is the streamable HTTP
client on `/mcp` and a streamed chat completion, the tool call assembled from its deltas.

LiteLLM is not installed: its two conversions (`litellm.experimental_mcp_client.tools`) are
written out below as LiteLLM defines them. Prints one JSON object (what was listed, sent,
called and returned) on stdout; any failure raises, so the Rust test sees the traceback.
"""

import asyncio
import json
import sys
from contextlib import asynccontextmanager

from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import CallToolRequestParams as MCPCallToolRequestParams
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionUserMessageParam


# --- LiteLLM's conversions (litellm/experimental_mcp_client/tools.py) ----------------------


def _normalize_mcp_input_schema(input_schema: dict) -> dict:
    if not input_schema:
        return {"type": "object", "properties": {}, "additionalProperties": False}
    normalized = dict(input_schema)
    normalized.setdefault("type", "object")
    normalized.setdefault("properties", {})
    normalized.setdefault("additionalProperties", False)
    return normalized


def transform_mcp_tool_to_openai_tool(mcp_tool) -> dict:
    """An MCP tool as an OpenAI function tool: name, description, parameters = inputSchema."""
    return {
        "type": "function",
        "function": {
            "name": mcp_tool.name,
            "description": mcp_tool.description or "",
            "parameters": _normalize_mcp_input_schema(mcp_tool.input_schema),
            "strict": False,
        },
    }


def _get_function_arguments(function: dict) -> dict:
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            arguments = {}
    return arguments if isinstance(arguments, dict) else {}


def transform_openai_tool_call_request_to_mcp_tool_call_request(openai_tool: dict):
    """An OpenAI tool call as MCP `tools/call` params: the function's name and parsed arguments."""
    function = openai_tool["function"]
    return MCPCallToolRequestParams(
        name=function["name"], arguments=_get_function_arguments(function)
    )


# --- The flow -------------------------------------------------------------------------------


@asynccontextmanager
async def mcp_session(base: str, headers: dict, transport: str):
    if transport == "sse":
        # The seed's client, with the gateway key.
        async with sse_client(f"{base}/mcp/", headers=headers) as (read, write):
            async with ClientSession(read, write) as session:
                yield session
    else:
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(f"{base}/mcp", http_client=http) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    yield session


async def tool_call_from_stream(stream) -> tuple[dict, str | None]:
    """The first tool call of a streamed completion, assembled from its deltas."""
    calls: dict[int, dict] = {}
    finish_reason = None
    async for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        finish_reason = choice.finish_reason or finish_reason
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(
                delta.index,
                {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
            )
            if delta.id:
                call["id"] = delta.id
            if delta.type:
                call["type"] = delta.type
            if delta.function is not None:
                if delta.function.name:
                    call["function"]["name"] += delta.function.name
                if delta.function.arguments:
                    call["function"]["arguments"] += delta.function.arguments
    assert calls, "the streamed completion carried no tool call"
    return calls[min(calls)], finish_reason


async def main(base: str, key: str, transport: str, model: str, user_text: str) -> None:
    client = AsyncOpenAI(api_key=key, base_url=f"{base}/v1")
    headers = {"x-litellm-api-key": f"Bearer {key}"}
    async with mcp_session(base, headers, transport) as session:
        init = await session.initialize()

        # 1. List MCP tools on the gateway.
        mcp_tools = await session.list_tools()
        messages = [ChatCompletionUserMessageParam(content=user_text, role="user")]

        # 2. Convert them to OpenAI tools.
        openai_tools = [transform_mcp_tool_to_openai_tool(tool) for tool in mcp_tools.tools]

        # 3. Provide them to the model.
        if transport == "sse":
            response = await client.chat.completions.create(
                model=model, messages=messages, tools=openai_tools, tool_choice="auto"
            )
            message = response.choices[0].message
            assert message.tool_calls, f"the model called no tool: {response}"
            tool_call = message.tool_calls[0].model_dump()
            finish_reason = response.choices[0].finish_reason
        else:
            stream = await client.chat.completions.create(
                model=model,
                messages=messages,
                tools=openai_tools,
                tool_choice="auto",
                stream=True,
            )
            tool_call, finish_reason = await tool_call_from_stream(stream)

        # 4./5. Convert the model's tool call to an MCP tool call.
        mcp_call = transform_openai_tool_call_request_to_mcp_tool_call_request(
            openai_tool=tool_call
        )

        # 6. Execute it on the MCP session.
        result = await session.call_tool(name=mcp_call.name, arguments=mcp_call.arguments)

    print(
        json.dumps(
            {
                "server": init.server_info.name,
                "listed": [tool.name for tool in mcp_tools.tools],
                "finish_reason": finish_reason,
                "tool_call": {
                    "id": tool_call["id"],
                    "name": tool_call["function"]["name"],
                    "arguments": tool_call["function"]["arguments"],
                },
                "mcp_call": {"name": mcp_call.name, "arguments": mcp_call.arguments},
                "result": {
                    "is_error": bool(result.is_error),
                    "content": [block.model_dump(mode="json") for block in result.content],
                },
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
