"""The capstone's service folder: the starting files are the source's code as written, plus marked glue;
`helpers.capstone` loads a folder fresh, points ChatOpenAI() at the course's model for the length of
the import only, and steers that model (lab options, line breaks, its name) for the grader."""

import os
import re

import httpx
import openai
import pytest

from helpers import capstone, source_material
from helpers.course import NOTEBOOK_DIR
from helpers.embedded_model import OFFLINE_API_KEY
from helpers.sse import parse

STARTING = NOTEBOOK_DIR / "capstone"
SOLUTION = NOTEBOOK_DIR / "solutions" / "10_capstone"


def test_the_starting_backend_is_the_source_handler_character_for_character():
    text = (STARTING / "app.py").read_text(encoding="utf-8")
    quoted = re.search(
        r"# ---- the source material, 问题3, as written ----\n(.*)# ---- end of the source material ----\n",
        text,
        re.S,
    )
    assert quoted and quoted.group(1) == source_material.handler_code()
    glue = text[quoted.end() :]
    assert glue.startswith("\n\n# ---- glue, not from the source:")


def test_the_starting_page_runs_the_source_client_script_character_for_character():
    page = (STARTING / "static" / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script data-quoted="[^"]*">\n(.*?)</script>', page, re.S)
    assert scripts == [source_material.client_script()]
    glue = re.findall(r"<script>\n(.*?)</script>", page, re.S)
    assert len(glue) == 1 and glue[0].startswith("// Glue, not from the source")


def test_the_reference_solution_has_the_learners_file_names():
    def files(folder):
        return sorted(
            str(p.relative_to(folder))
            for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )

    assert files(SOLUTION) == files(STARTING) == ["app.py", "static/index.html"]


def test_loading_restores_the_environment_even_when_the_import_fails(model, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://example.invalid/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    before = {name: os.environ.get(name) for name in capstone.ENVIRONMENT}
    module = capstone.load_service(STARTING)
    assert (
        module.llm.openai_api_base.startswith("http://127.0.0.1:") and "/load-" in module.llm.openai_api_base
    )
    (tmp_path / "app.py").write_text(
        "import os\nassert os.environ['OPENAI_API_KEY']\nraise ValueError('late')\n"
    )
    with pytest.raises(
        capstone.ServiceError, match=r"^app.py does not import: ValueError: late \(app.py, line 3\)$"
    ):
        capstone.load_service(tmp_path)
    assert {name: os.environ.get(name) for name in capstone.ENVIRONMENT} == before


def test_each_load_gets_its_own_base_url():
    urls = {capstone.course_model().new_base_url() for _ in range(3)}
    assert len(urls) == 3


def test_a_service_served_again_in_a_new_loop_still_reaches_the_model(model):
    """ChatOpenAI shares an HTTP client per base URL, bound to the loop that first used it: each load needs its own URL."""
    for _ in range(2):
        with capstone.serve_service(STARTING, name="test-capstone-twice") as server:
            events = parse(
                httpx.post(server.url + "/chat-stream", params={"message": "hi"}, timeout=30).content
            )
        assert [e.type for e in events][-1] == "done" and "error" not in [e.type for e in events]


def test_the_course_model_applies_lab_options_any_model_name_and_line_breaks(model):
    course_model = capstone.course_model()
    client = openai.OpenAI(base_url=course_model.new_base_url(), api_key=OFFLINE_API_KEY, max_retries=0)
    with course_model.using(line_breaks=True, tokens=10, first_token_delay=0, token_delay=0):
        chunks = client.chat.completions.create(
            model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi (layer)"}], stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    record = course_model.requests[-1]
    assert record.prompt == "hi (layer)" and course_model.text_of(record) == text
    assert "\n\n" in text and "\r\n" in text and "\r" in text.replace("\r\n", "")
    with course_model.using(fault="server_error"), pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}])
    assert course_model.errors[-1] == "The model failed before answering."
    assert course_model.lab == {}  # the options end with the block


def test_with_a_real_key_and_no_model_the_service_uses_the_real_api(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    module = capstone.load_service(STARTING)
    assert module.llm.openai_api_base is None  # the OpenAI default
    assert capstone.load_service(STARTING, offline=True).llm.openai_api_base.startswith("http://127.0.0.1:")


def test_every_chinese_quote_in_notebook_10_is_the_source_as_written():
    import nbformat

    cells = nbformat.read(NOTEBOOK_DIR / "10_capstone.ipynb", as_version=4).cells
    quotes = [q for c in cells if c.cell_type == "markdown" for q in re.findall(r"「(.+?)」", c.source)]
    assert len(quotes) >= 5
    for words in quotes:
        source_material.quote(words)


def test_the_solution_cell_points_the_grader_at_the_reference_folder():
    namespace = {}
    exec((NOTEBOOK_DIR / "solutions" / "10_capstone.py").read_text(encoding="utf-8"), namespace)
    assert capstone.service_folder(NOTEBOOK_DIR / namespace["SERVICE"]) == SOLUTION.resolve()
