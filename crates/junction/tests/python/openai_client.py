"""Drives a running Junction with the official `openai` Python package.

Usage: openai_client.py BASE_URL KEY. Exits non-zero (with a traceback) on the first
mismatch; prints one line per check so the Rust test can show progress.
"""
import json
import sys

import openai
from openai import OpenAI

base_url, key = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)

# Non-streaming, through the OpenAI-compatible adapter and through the Anthropic translation.
for model, upstream in [("gpt", "gpt-upstream"), ("claude", "claude-upstream")]:
    r = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi from python"}]
    )
    assert r.choices[0].message.content == f"Hello from {upstream}! You said: hi from python", r
    assert r.choices[0].finish_reason == "stop", r
    assert r.usage.total_tokens > 0, r
    print(f"ok non-stream {model}")

    # Streaming with usage.
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert text == f"Hello from {upstream}! You said: stream please", text
    assert finish == "stop", finish
    assert usage is not None and usage.completion_tokens > 0, usage
    print(f"ok stream {model}")

    # Tool calls.
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}}}}}]
    r = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Lisbon"}], tools=tools
    )
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup", r
    assert json.loads(call.function.arguments) == {"query": "Lisbon"}, r
    r = client.chat.completions.create(
        model=model,
        tools=tools,
        messages=[
            {"role": "user", "content": "Lisbon"},
            r.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "warm"},
        ],
    )
    assert r.choices[0].message.content == "Tool result: warm", r
    print(f"ok tools {model}")

models = [m.id for m in client.models.list()]
assert models == ["gpt", "claude"], models
print("ok models")

try:
    client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    raise AssertionError("unknown model accepted")
except openai.NotFoundError as e:
    assert e.status_code == 404
print("ok 404")

try:
    OpenAI(base_url=f"{base_url}/v1", api_key="sk-wrong", max_retries=0).models.list()
    raise AssertionError("bad key accepted")
except openai.AuthenticationError as e:
    assert e.status_code == 401
print("ok 401")
print("ALL OK")
