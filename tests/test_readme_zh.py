"""README.zh-CN.md: linked from README.md, generated parts up to date, every notebook named."""

import re

from helpers import course

README = course.ROOT / "README.md"
README_ZH = course.README_ZH


def test_the_english_readme_links_the_chinese_one_at_the_top():
    top = README.read_text(encoding="utf-8").splitlines()[:5]
    assert any("(README.zh-CN.md)" in line for line in top)


def test_it_names_every_notebook_in_both_languages():
    text = README_ZH.read_text(encoding="utf-8")
    for nb in course.NOTEBOOKS:
        assert f"notebooks/{nb.filename}" in text, nb.filename
        assert nb.title_zh in text and nb.learn_zh in text, nb.filename


def test_its_generated_table_and_glossary_are_up_to_date():
    assert README_ZH not in course.sync(check=True), "run `python -m helpers.course`"


def test_quick_start_offline_and_real_api_and_tests_are_covered():
    text = README_ZH.read_text(encoding="utf-8")
    for needed in ("make lab", "make test", "OPENAI_API_KEY", "fonts-noto-cjk", "## 运行测试", "## 默认离线"):
        assert needed in text, needed


def test_every_relative_link_resolves():
    text = README_ZH.read_text(encoding="utf-8")
    links = [link for link in re.findall(r"\]\(([^)#]+)\)", text) if "://" not in link]
    assert links
    missing = [link for link in links if not (course.ROOT / link).exists()]
    assert not missing, missing
