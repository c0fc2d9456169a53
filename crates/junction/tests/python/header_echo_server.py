"""An MCP server (fastmcp, streamable HTTP) that shows the gateway's upstream headers.

Usage: header_echo_server.py <port> [<token>,<token>…]

Tool `headers` returns every HTTP header of the request that called it, as a JSON object
(lowercased names). With tokens, every HTTP request must carry `Authorization: Bearer <one
of them>`, else 401: a server that needs each caller's own credential.
"""

import json
import sys

import uvicorn
from fastmcp import FastMCP
from fastmcp.server.dependencies import get_http_headers

port = int(sys.argv[1])
tokens = {t for t in (sys.argv[2].split(",") if len(sys.argv) > 2 else []) if t}

mcp = FastMCP("header-echo")


@mcp.tool
def headers() -> str:
    """The HTTP headers of this call."""
    return json.dumps(get_http_headers(include_all=True), sort_keys=True)


@mcp.tool
def whoami() -> str:
    """The bearer token this call came with."""
    auth = get_http_headers(include_all=True).get("authorization", "")
    return auth.removeprefix("Bearer ")


app = mcp.http_app(path="/mcp")


def guarded(inner):
    async def asgi(scope, receive, send):
        if scope["type"] == "http" and tokens:
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            if auth.removeprefix("Bearer ") not in tokens:
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await inner(scope, receive, send)
    return asgi


uvicorn.run(guarded(app), host="127.0.0.1", port=port, log_level="warning")
