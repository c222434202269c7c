"""The source material's code, run as written: nobody may edit the copy, the page's script or the handler silently."""

import inspect
import re

import pytest

from helpers import pitfalls, source_material
from helpers.static_pages import PAGES


def test_the_copy_of_the_source_is_byte_for_byte_the_original():
    assert source_material.digest() == source_material.SHA256, (
        "helpers/source/interview_notes.zh.md was edited"
    )


def test_the_code_blocks_are_the_notes_own_without_the_block_quote_markers():
    handler = source_material.handler_code()
    assert handler.startswith("from fastapi import FastAPI\n") and handler.endswith(
        'media_type="text/event-stream")\n'
    )
    compile(handler, "问题3 backend", "exec")  # it is Python as it stands
    for line in handler.splitlines() + source_material.client_script().splitlines():
        assert f"> {line}".rstrip() in source_material.text().splitlines() or line == ""


def quoted_script(page: str) -> str:
    scripts = re.findall(r'<script data-quoted="[^"]*">\n(.*?)</script>', page, re.S)
    assert len(scripts) == 1, "the page must hold exactly one quoted script"
    return scripts[0]


def test_the_error_collision_page_runs_the_source_client_script_character_for_character():
    page = (PAGES / "error-collision.html").read_text(encoding="utf-8")
    assert quoted_script(page) == source_material.client_script()


def test_a_changed_script_is_caught():
    page = (PAGES / "error-collision.html").read_text(encoding="utf-8")
    # drop one close()
    edited = page.replace("    eventSource.close();\n});\n\n// 连接错误", "});\n\n// 连接错误", 1)
    assert edited != page
    assert quoted_script(edited) != source_material.client_script()


def test_the_pitfall_server_runs_the_source_generator_as_written():
    source = inspect.getsource(pitfalls.seed_generate)
    quoted = source.split("# --- quoted from the source material, as written ---\n")[1].split(
        "    # --- end of the quote ---"
    )[0]
    assert quoted.count("\n") >= 20
    assert quoted in source_material.handler_code()


def test_a_quote_not_in_the_source_is_refused():
    assert source_material.quote("发送 error 事件,但不关闭连接") == "发送 error 事件,但不关闭连接"
    with pytest.raises(ValueError):
        # a full-width comma: not what the source wrote
        source_material.quote("发送 error 事件，但不关闭连接")
