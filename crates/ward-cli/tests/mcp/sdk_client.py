"""An MCP client built on the official Python SDK (PyPI `mcp`), for ward's gateway tests.

    sdk_client.py (--url URL [--token T] | --stdio -- CMD ARGS...) [--mode auto|legacy|2026-07-28]
                  [--call TOOL JSON]... [--progress TOOL JSON]

Connects (over Streamable HTTP to ward serve, or over stdio to `ward mcp wrap`), lists the tools,
makes the calls in order and prints one JSON report: the negotiated protocol version, the tool
names, each call's result (isError and text) or the error it raised, and progress seen.
"""

import argparse
import asyncio
import json
import os
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


def text_of(result):
    parts = []
    for c in getattr(result, "content", None) or []:
        t = getattr(c, "text", None)
        if t is not None:
            parts.append(t)
    return "\n".join(parts)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--token")
    ap.add_argument("--stdio", action="store_true")
    ap.add_argument("--mode", default="auto")
    ap.add_argument("--call", nargs=2, action="append", default=[], metavar=("TOOL", "JSON"))
    ap.add_argument("--progress", nargs=2, metavar=("TOOL", "JSON"))
    ap.add_argument("command", nargs="*")
    a = ap.parse_args()
    if a.url:
        headers = {"Authorization": f"Bearer {a.token}"} if a.token else {}
        http = httpx2.AsyncClient(headers=headers, timeout=60)
        server = streamable_http_client(a.url, http_client=http)
    else:
        # The whole environment: the wrapper needs WARD_HOME (the SDK passes only a few by default).
        server = StdioServerParameters(command=a.command[0], args=a.command[1:], env=dict(os.environ))
    report = {"calls": []}
    async with Client(server, mode=a.mode) as c:
        s = c.session
        init = getattr(s, "initialize_result", None)
        disc = getattr(s, "discover_result", None)
        report["protocol"] = (
            init.protocol_version if init is not None else
            (disc.supported_versions[-1] if disc is not None else None))
        report["era"] = "legacy" if init is not None else "modern"
        tools = await c.list_tools()
        report["tools"] = sorted(t.name for t in tools.tools)
        for tool, args in a.call:
            try:
                r = await c.call_tool(tool, json.loads(args))
                report["calls"].append({"tool": tool, "isError": bool(r.is_error), "text": text_of(r)})
            except Exception as e:  # an MCP error answer
                report["calls"].append({"tool": tool, "error": str(e)})
        if a.progress:
            seen = []

            async def on_progress(progress, total, message):
                seen.append(progress)

            r = await c.call_tool(a.progress[0], json.loads(a.progress[1]), progress_callback=on_progress)
            report["progress"] = {"isError": bool(r.is_error), "steps": len(seen), "text": text_of(r)}
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
