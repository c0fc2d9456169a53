"""Seeds 000 and 003 run unchanged against the gateway with the official `openai` client.

Usage: responses_seeds.py <base_url> <api_key> <model>

Seed 003: `client.responses.create` with an MCP tool on `litellm_proxy`,
`require_approval: "never"`, `tool_choice: "required"`, streamed and not.
Seed 000: the Discord bot's `LiteLLMResponsesClient` (copied from the seed, minus Discord):
`chat` twice in a row (the second continues with `previous_response_id`), the streaming
generator, `clear_history`.

Prints one JSON object with what it observed; the Rust test asserts on it.
"""

import json
import sys

from openai import OpenAI

base_url, api_key, model = sys.argv[1], sys.argv[2], sys.argv[3]


# --- seed 000, as written there (the Discord parts left out) ---------------------------
class LiteLLMResponsesClient:
    """Client wrapper for Discord bot using LiteLLM Responses API with MCP."""

    def __init__(self, proxy_url: str, api_key: str):
        self.client = OpenAI(base_url=proxy_url, api_key=api_key)
        self.conversations = {}  # user_id -> response_id mapping

    def get_mcp_tools(self, server_label: str = "default") -> list:
        """Define MCP tools configuration."""
        return [{
            "type": "mcp",
            "server_label": server_label,
            "server_url": "litellm_proxy",
            "require_approval": "never",
            "allowed_tools": ["search", "fetch_data", "analyze", "everything-echo"]  # Customize as needed
        }]

    def chat(self, user_id: str, message: str, model: str = "anthropic/claude-3-5-sonnet-latest",
             use_mcp_tools: bool = True, stream: bool = False):
        """Send a message and get response, with optional MCP tools and streaming."""
        previous_id = self.conversations.get(user_id)
        kwargs = {"model": model, "input": message, "stream": stream}
        if previous_id:
            kwargs["previous_response_id"] = previous_id
        if use_mcp_tools:
            kwargs["tools"] = self.get_mcp_tools()
            kwargs["tool_choice"] = "auto"
        if stream:
            return self._handle_stream(user_id, **kwargs)
        else:
            response = self.client.responses.create(**kwargs)
            self.conversations[user_id] = response.id
            return self._extract_text(response)

    def _handle_stream(self, user_id: str, **kwargs):
        """Generator for streaming responses."""
        stream = self.client.responses.create(**kwargs)
        response_id = None
        for event in stream:
            if hasattr(event, 'type'):
                if event.type == "response.created":
                    response_id = event.response.id
                elif event.type == "response.output_text.delta":
                    yield event.delta
        if response_id:
            self.conversations[user_id] = response_id

    def _extract_text(self, response) -> str:
        """Extract text from Responses API response."""
        for output in response.output:
            if output.type == "message":
                for content in output.content:
                    if content.type == "output_text":
                        return content.text
        return ""

    def clear_history(self, user_id: str):
        """Clear conversation history for a user."""
        self.conversations.pop(user_id, None)


observed = {}

# --- seed 003 ---------------------------------------------------------------------------
client = OpenAI(api_key=api_key, base_url=base_url)
seed_tools = [{
    "type": "mcp",
    "server_label": "litellm",
    "server_url": "litellm_proxy",
    "require_approval": "never",
}]
seed_input = [{
    "role": "user",
    "content": "give me TLDR of what BerriAI/litellm repo is about",
    "type": "message",
}]
response = client.responses.create(model=model, input=seed_input, tools=seed_tools,
                                   stream=False, tool_choice="required")
observed["seed003_plain"] = {
    "status": response.status,
    "types": [item.type for item in response.output],
    "output_text": response.output_text,
    "mcp_calls": [{"name": i.name, "output": i.output, "server_label": i.server_label}
                  for i in response.output if i.type == "mcp_call"],
}

events = []
stream = client.responses.create(model=model, input=seed_input, tools=seed_tools,
                                 stream=True, tool_choice="required")
for chunk in stream:
    events.append({"type": chunk.type, "sequence_number": chunk.sequence_number})
    if chunk.type == "response.completed":
        observed["seed003_stream_final_types"] = [item.type for item in chunk.response.output]
observed["seed003_stream_events"] = events

allowed = client.responses.create(model=model, input=seed_input, stream=False, tool_choice="required",
                                  tools=[{**seed_tools[0], "server_url": "litellm_proxy/mcp",
                                          "allowed_tools": ["everything-echo"]}])
observed["seed003_allowed_listed"] = [t.name for item in allowed.output if item.type == "mcp_list_tools"
                                      for t in item.tools]

# --- seed 000 ---------------------------------------------------------------------------
bot = LiteLLMResponsesClient(proxy_url=base_url, api_key=api_key)
first = bot.chat(user_id="42", message="My name is Alice", model=model)
first_id = bot.conversations["42"]
second = bot.chat(user_id="42", message="What's my name?", model=model)
second_id = bot.conversations["42"]
streamed = "".join(bot.chat(user_id="42", message="And again, streamed", model=model, stream=True))
streamed_id = bot.conversations["42"]
bot.clear_history("42")
fresh = bot.chat(user_id="42", message="Who am I?", model=model, use_mcp_tools=False)
observed["seed000"] = {
    "first": first, "second": second, "streamed": streamed, "fresh": fresh,
    "ids": [first_id, second_id, streamed_id],
    "previous_of_second": client.responses.retrieve(second_id).previous_response_id,
    "previous_of_streamed": client.responses.retrieve(streamed_id).previous_response_id,
    "fresh_previous": client.responses.retrieve(bot.conversations["42"]).previous_response_id,
}
print(json.dumps(observed))
