"""PaddleOCR's own MCP server (`paddleocr-mcp`, unchanged, in a virtualenv of its own) in self-hosted
mode against a real `ocrserve serve`, driven through a real MCP stdio session with the `mcp` SDK's
client: the OCR tool posts to `/ocr`, the PP-StructureV3 tool to `/layout-parsing`."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from _support.pdfs import LINES, text_pdf
from _support.server import start_server
from _support.venvs import VENVS, tool_venv

MCP_VERSION = "0.8.5"

SESSION = textwrap.dedent("""
    import asyncio, json, os, sys
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    async def main(server_bin, base, model, path, home):
        # the SDK starts a server with a bare environment of its own (the real HOME): hand it the test's,
        # and a home of its own, so that nothing it caches lands in the user's home
        env = {**os.environ, "HOME": home}
        params = StdioServerParameters(command=server_bin, env=env, args=[
            "--ppocr_source", "self_hosted", "--self-hosted-base-url", base, "--model", model])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = [tool.name for tool in (await session.list_tools()).tools]
                result = await session.call_tool(tools[0], {"input_data": path, "return_images": True})
                content = [{"type": c.type, "text": getattr(c, "text", None)} for c in result.content]
                print("RESULT " + json.dumps({"tools": tools, "error": getattr(result, "is_error", None) or getattr(result, "isError", False), "content": content}))

    asyncio.run(main(*sys.argv[1:]))
""")


@pytest.fixture(scope="module")
def mcp_python() -> Path:
    return tool_venv(VENVS / f"paddleocr-mcp-{MCP_VERSION}", [f"paddleocr-mcp=={MCP_VERSION}", "paddleocr==3.7.0"],
                     "import paddleocr_mcp, mcp")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # the MCP server's self-hosted mode sends no token, as against a PaddleX server
    with start_server(tmp_path_factory, {"OCR_MODEL": "pp-ocrv6-small"}) as base:
        yield base


def call_tool(python: Path, base: str, model: str, path: Path, home: Path) -> dict:
    server_bin = str(python.parent / "paddleocr_mcp")
    done = subprocess.run([str(python), "-c", SESSION, server_bin, base, model, str(path), str(home)],
                          capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def test_the_ocr_tool_reads_through_the_paddlex_ocr_contract(mcp_python, server, samples_dir, tmp_path):
    out = call_tool(mcp_python, server, "PP-OCRv6", samples_dir / "scenes/s01_sign_zh_en.png", tmp_path)
    assert out["tools"] == ["ocr"] and not out["error"], out
    text = " ".join(c["text"] or "" for c in out["content"])
    assert "copy files" in text.lower(), out


def test_the_pp_structurev3_tool_gets_markdown_from_layout_parsing(mcp_python, server, tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(text_pdf())
    out = call_tool(mcp_python, server, "PP-StructureV3", pdf, tmp_path)
    assert out["tools"] == ["pp_structurev3"] and not out["error"], out
    text = "\n".join(c["text"] or "" for c in out["content"] if c["type"] == "text")
    assert all(line in text for line in LINES), out
