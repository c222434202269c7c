"""The bilingual interview answers: one source, the same numbers in both languages, missing numbers handled."""

import asyncio
import copy
import re

import pytest

from helpers import drill, evidence, glossary
from helpers.drill import QUESTIONS

# The shapes the notebooks record today (see their `record(...)` calls), with values from one run.
FOUND = {
    "server.first_byte": {
        "value": {"streamed": 0.1042, "buffered": 2.0167, "total_streamed": 2.0243, "total_buffered": 2.0168}
    },
    "server.memory_peak": {"value": {"streamed": 945552, "whole": 149542479}},
    "model.first_token": {
        "value": {
            "ainvoke": 2.3927,
            "astream": 0.3054,
            "total_ainvoke": 2.3927,
            "total_astream": 2.3873,
            "model": "streaming-lab-model",
        }
    },
    "transport.bytes": {
        "value": {
            "SSE": {"up": 213, "down": 3050, "first_token_s": 0.328},
            "WebSocket, deflate": {"up": 309, "down": 937, "first_token_s": 0.313},
            "WebSocket, no compression": {"up": 237, "down": 2189, "first_token_s": 0.307},
        }
    },
    "transport.stop_latency_ms": {"value": {"websocket": 0.4235, "sse_post": 3.7852}},
    "cost.framing": {
        "value": {"raw text": 309, "SSE data line": 733, "SSE, JSON per token": 2058, "openai_chunks": 12213}
    },
    "cost.decision_table": {
        "value": [
            {
                "output": "3 tokens",
                "speed": "50 tokens/s",
                "wait_saved_s": 0.0392,
                "extra_bytes_pct": 78.6,
                "cpu_ratio": 1.739,
                "decision": "do not stream",
            },
            {
                "output": "300 tokens",
                "speed": "50 tokens/s",
                "wait_saved_s": 5.9808,
                "extra_bytes_pct": 85.0,
                "cpu_ratio": 1.752,
                "decision": "stream",
            },
            {
                "output": "3 tokens",
                "speed": "200 tokens/s",
                "wait_saved_s": -0.0002,
                "extra_bytes_pct": 78.6,
                "cpu_ratio": 4.449,
                "decision": "do not stream",
            },
            {
                "output": "structured JSON",
                "speed": "any",
                "wait_saved_s": None,
                "extra_bytes_pct": None,
                "cpu_ratio": 6645.9,
                "decision": "do not stream (parse once)",
            },
        ]
    },
    # notebook 05 (branch `model`): `record("agent.history_tokens", {"turns": turns, "alone": alone})`, `record("agent.stopped_stream", vars(stopped))`
    "agent.history_tokens": {
        "value": {
            "turns": [
                {"turn": 1, "messages": 1, "input_tokens": 9, "output_tokens": 53},
                {"turn": 2, "messages": 3, "input_tokens": 74, "output_tokens": 40},
                {"turn": 3, "messages": 5, "input_tokens": 121, "output_tokens": 47},
                {"turn": 4, "messages": 7, "input_tokens": 181, "output_tokens": 42},
            ],
            "alone": [9, 12, 7, 13],
        }
    },
    "agent.stopped_stream": {
        "value": {
            "status": "cancelled",
            "chunks_received": 5,
            "tokens_generated": 5,
            "prompt_tokens": 7,
            "stop_delay": 0.0007,
            "usage_seen": False,
        }
    },
    # notebook 08 (branch `production`), as it records them
    "production.proxy": {
        "value": {
            "delivery": {
                "direct, no proxy": "live",
                "nginx defaults": "in one burst at the end",
                "+ X-Accel-Buffering: no": "live",
                "proxy_buffering off": "live",
                "gzip on": "in 3 bursts",
            },
            "idle_cut_after_tokens": 6,
            "pings_kept_it_open": True,
        }
    },
    "production.slow_reader": {
        "value": {
            "flow": {"held_bytes": 0, "rss_growth": 943718, "produced": 2800},
            "unbounded": {"held_bytes": 13212057, "rss_growth": 14155776, "produced": 15400},
            "bounded": {"held_bytes": 0, "rss_growth": 1363148, "produced": 3000},
        }
    },
    "production.streams_per_worker": {
        "value": [
            {
                "streams": 10,
                "ok": 10,
                "p50_ms": 0.4,
                "p99_ms": 1.2,
                "rss_per_stream_kib": 107.2,
                "cpu_percent": 2.8,
            },
            {
                "streams": 100,
                "ok": 100,
                "p50_ms": 0.16,
                "p99_ms": 0.8,
                "rss_per_stream_kib": 27.0,
                "cpu_percent": 7.5,
            },
            {
                "streams": 500,
                "ok": 500,
                "p50_ms": 6.84,
                "p99_ms": 170.6,
                "rss_per_stream_kib": 24.0,
                "cpu_percent": 15.6,
            },
            {
                "streams": 1000,
                "ok": 870,
                "p50_ms": 40.1,
                "p99_ms": 2950.0,
                "rss_per_stream_kib": 23.1,
                "cpu_percent": 61.0,
            },
        ]
    },
}
# Measurements of notebooks that other branches add to evidence.KEYS; the drill cites them once they are there.
LATER_KEYS = {
    "agent.history_tokens": "prompt and completion tokens per turn of a multi-turn chat, from usage (05)",
    "agent.stopped_stream": "what a stopped stream cost: chunks received, tokens generated, stop delay (05)",
    "production.streams_per_worker": "latency p50/p99, RSS per stream and CPU of one worker at 10 to 1,000 streams (08)",
    "production.slow_reader": "bytes held and RSS growth for a reader that stopped reading, per design (08)",
    "production.proxy": "how tokens arrive through nginx per setting, and the idle cut at proxy_read_timeout (08)",
}
AGENT_KEYS = {name: text for name, text in LATER_KEYS.items() if name.startswith("agent.")}


@pytest.fixture(autouse=True)
def course_measures_the_later_keys(monkeypatch):
    """The tests see the course with notebooks 05's and 08's measurements in evidence.KEYS, whichever branch merged first."""
    for name, description in LATER_KEYS.items():
        monkeypatch.setitem(evidence.KEYS, name, description)


def other_machine(found):
    """The same measurements from a slower machine: every number different."""
    other = copy.deepcopy(found)
    fb = other["server.first_byte"]["value"]
    fb.update(streamed=0.2371, buffered=3.5112, total_streamed=3.6003, total_buffered=3.5127)
    other["server.memory_peak"]["value"].update(streamed=1245552, whole=99542479)
    other["model.first_token"]["value"].update(astream=0.612, ainvoke=4.118)
    other["transport.bytes"]["value"]["SSE"].update(up=219, down=3101)
    other["transport.stop_latency_ms"]["value"].update(websocket=1.77, sse_post=12.31)
    other["cost.framing"]["value"].update({"raw text": 412, "SSE data line": 1100})
    table = other["cost.decision_table"]["value"]
    table[0].update(wait_saved_s=-0.0011, cpu_ratio=2.31)  # the least saving is now the other row
    table[1].update(wait_saved_s=5.47, cpu_ratio=1.48)
    table[2].update(wait_saved_s=0.0104, cpu_ratio=3.02)
    # the token counts are the offline model's: the same anywhere
    other["agent.stopped_stream"]["value"].update(stop_delay=0.0031)
    other["production.slow_reader"]["value"]["unbounded"].update(held_bytes=9871233)
    other["production.streams_per_worker"]["value"][2].update(
        p99_ms=88.2, rss_per_stream_kib=25.3, cpu_percent=21.4
    )
    return other


NUMBER = re.compile(r"\d+(?:\.\d+)?")
CJK = re.compile(r"[\u4e00-\u9fff]")


def numbers(text: str) -> list[str]:
    return sorted(NUMBER.findall(text))


@pytest.mark.parametrize(
    "found", [FOUND, other_machine(FOUND), {}], ids=["measured", "other machine", "nothing measured"]
)
def test_every_number_in_one_language_appears_in_the_other(found):
    for question in drill.render(found):
        for zh, en in question["points"]:
            assert numbers(zh) == numbers(en), f"question {question['number']}:\n{zh}\n{en}"


def test_both_languages_use_the_same_placeholders_and_every_one_is_filled():
    values, problems = drill.facts(FOUND)
    assert problems == {}
    for question in QUESTIONS:
        for point in question.points:
            assert drill.placeholders(point.zh) == drill.placeholders(point.en), point.en
            assert drill.placeholders(point.zh) <= set(values), point.en
    text = drill.text(FOUND)
    assert "{" not in text and "}" not in text


def test_the_numbers_are_the_learners_not_the_templates():
    mine, theirs = drill.text(FOUND, "both"), drill.text(other_machine(FOUND), "both")
    for lang in ("zh", "en"):
        assert drill.text(FOUND, lang) != drill.text(other_machine(FOUND), lang)
    fb = FOUND["server.first_byte"]["value"]
    q1 = drill.render(FOUND)[0]["points"]
    assert any(f"{fb['streamed']:.2f} 秒" in zh and f"{fb['streamed']:.2f} s" in en for zh, en in q1)
    # the decision table's most and least saving; noise below zero shows as 0.00
    assert "5.98" in mine and "0.00" in mine
    assert "5.47" in theirs and "5.98" not in theirs


def test_the_offline_model_is_labelled_a_simulation_and_a_real_one_is_named():
    offline = drill.render(FOUND)[0]["points"]
    assert any("离线模拟模型" in zh and "offline simulated model" in en for zh, en in offline)
    real = copy.deepcopy(FOUND)
    real["model.first_token"]["value"]["model"] = "gpt-4o-mini"
    text = drill.text(real, question=1)  # question 3 cites a stop that only the offline model can record
    assert (
        "模拟" not in text
        and "simulated" not in text
        and "（gpt-4o-mini）" in text
        and "(gpt-4o-mini)" in text
    )


def test_a_missing_measurement_is_one_clear_sentence_naming_its_notebook():
    found = {name: value for name, value in FOUND.items() if name != "cost.decision_table"}
    q4 = drill.render(found)[3]["points"]
    missing = [(zh, en) for zh, en in q4 if "Not measured yet" in en]
    assert len(missing) == 1, "two points need the decision table: one sentence is enough"
    zh, en = missing[0]
    assert "运行笔记本 09《什么时候不该用流式输出》" in zh and "run notebook 09, When not to stream" in en
    assert not any("{" in zh + en for zh, en in q4)


def test_with_nothing_measured_every_answer_still_renders():
    text = drill.text({}, "both")
    for number in ("03", "04", "07", "09"):
        assert f"run notebook {number}," in text and f"运行笔记本 {number}《" in text
    assert all(len(question["points"]) >= 4 for question in drill.render({}))


def test_a_measurement_in_an_older_shape_asks_to_rerun_its_notebook():
    found = {**FOUND, "transport.bytes": {"value": {"SSE": 3050}}}
    zh, en = next(point for point in drill.render(found)[1]["points"] if "older format" in point[1])
    assert "notebook 07" in en and "重新运行笔记本 07" in zh


def test_missing_quick_measurements_are_measured_on_the_spot(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMING_LAB_DATA", str(tmp_path))
    evidence.record(
        "transport.stop_latency_ms", {"websocket": 0.5, "sse_post": 4.0}, source="07_sse_vs_websocket"
    )
    found = asyncio.run(drill.measure_missing())
    assert set(drill.QUICK) <= set(found)
    assert {found[name]["source"] for name in drill.QUICK} == {"11 (quick)"}
    assert found["transport.stop_latency_ms"]["source"] == "07_sse_vs_websocket", "what was recorded is kept"
    first_byte = found["server.first_byte"]["value"]
    assert first_byte["streamed"] < first_byte["buffered"]
    text = drill.text(found, "en")
    assert "the first byte arrived after" in text and "sent" in text.split("Network.")[1][:80]
    assert "run notebook 09" in text  # 09's decision table cannot be measured quickly


def test_the_chinese_gives_the_english_term_in_parentheses_where_a_glossary_term_first_appears():
    chinese = "\n".join(zh for question in drill.render(FOUND) for zh, _ in question["points"])
    used = [t for t in glossary.TERMS if t.zh in chinese]
    assert len(used) >= 20, "the answers should speak the glossary's terms"
    for term in used:
        after = chinese[chinese.index(term.zh) + len(term.zh) :][:60]
        match = re.match(r"(?:\*\*)?[”」]?（([^）]*)）", after)
        assert match, f"first use of {term.zh} has no English in parentheses: …{term.zh}{after[:20]}…"
        assert any(form.lower() in match.group(1).lower() for form in term.forms), (
            f"{term.zh}（{match.group(1)}）: expected {term.en}"
        )


def test_markup_survives_commonmark_in_both_languages():
    # `**协议层面。**大模型` stays literal in CommonMark (a closing ** after punctuation needs a space after it).
    mistune = pytest.importorskip("mistune")
    for lang in ("zh", "en", "both"):
        rendered = mistune.html(drill.markdown(FOUND, lang))
        assert "**" not in rendered and "<strong>" in rendered, lang
    assert "**" in mistune.html("**协议层面。**大模型"), "the pitfall this test guards against"


def test_quotes_from_the_source_appear_word_for_word_in_both_languages():
    quoted = [(q, p) for question in QUESTIONS for p in question.points for q in p.quotes]
    assert quoted
    for words, point in quoted:
        assert f"“{words}”" in point.zh and f"“{words}”" in point.en, words


def test_the_questions_and_quotes_are_the_source_materials_own_words():
    source = pytest.importorskip(
        "helpers.source_material",
        reason="helpers.source_material (the verbatim notes) is not on this branch yet",
    )
    for question in QUESTIONS:
        source.quote(question.asked_zh)
        for point in question.points:
            for words in point.quotes:
                source.quote(words)


def test_the_widget_switches_language_and_keeps_a_fixed_plain_text_form():
    view = drill.DrillView(FOUND)
    assert view.lang == "both"
    both = view.body.value
    assert "我从五个维度来比较" in both and "I compare them on five dimensions" in both
    view.switch.value = "zh"
    assert "我从五个维度来比较" in view.body.value and "I compare them" not in view.body.value
    view.switch.value = "en"
    assert "I compare them" in view.body.value and "我从五个维度来比较" not in view.body.value
    assert "<b>Protocol.</b>" in view.body.value and "<code>text/event-stream</code>" in view.body.value
    plain = {
        drill.DrillView(found)._repr_mimebundle_()["text/plain"]
        for found in (FOUND, {}, other_machine(FOUND))
    }
    assert len(plain) == 1
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_printed_answers_are_stable_under_the_notebook_sanitizer():
    # If notebook 11 prints the answers, nbval must see the same text on any machine.
    from pathlib import Path

    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((Path(__file__).parent / "sanitize.cfg").read_text(encoding="utf-8"))

    def sanitize(text):
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    for lang in ("zh", "en"):
        mine, theirs = drill.text(FOUND, lang), drill.text(other_machine(FOUND), lang)
        assert mine != theirs and sanitize(mine) == sanitize(theirs), lang


def test_one_question_can_be_shown_on_its_own():
    view = drill.DrillView(FOUND, question=2)
    assert "问题2" in view.body.value and "问题1" not in view.body.value and "问题3" not in view.body.value
    assert drill.text(FOUND, "en", question=4).startswith("Question 4 ·")
    assert view._repr_mimebundle_()["text/plain"].startswith("Interview answer 2,")


def test_an_unknown_language_or_question_is_refused():
    with pytest.raises(ValueError, match="lang must be one of"):
        drill.markdown(FOUND, "fr")
    with pytest.raises(ValueError, match="question must be one of"):
        drill.DrillView(FOUND, question=5)


def test_a_point_whose_measurement_the_course_does_not_take_is_left_out(monkeypatch):
    cited = (
        "I measured a stop (",
        "Cost. Tokens are what is billed",
        "I measured it behind nginx",
        "Slow reader.",
        "Concurrency.",
    )
    later = drill.text(FOUND, "en")
    assert all(words in later for words in cited)
    for name in LATER_KEYS:
        monkeypatch.delitem(evidence.KEYS, name)
    without = drill.text(FOUND, "en")
    assert not any(words in without for words in cited)
    assert "Not measured yet" not in without, "a measurement no notebook takes is not 'missing'"
    assert "Client gone." in without and "Proxies." in without, (
        "the sentences the measurements strengthen stay"
    )


def test_notebook_08s_measurements_strengthen_questions_2_and_4():
    q2 = drill.render(FOUND, question=2)[0]["points"]
    zh, en = next(p for p in q2 if "behind nginx" in p[1])
    assert (
        "with its defaults the tokens arrived in one burst at the end" in en
        and "默认配置下，token 到最后才一次性到达" in zh
    )
    assert "`X-Accel-Buffering: no` they arrived live" in en and "实时到达" in zh
    assert "cut after 6 tokens" in en and "第 6 个 token 之后" in zh and "got its `done`" in en
    q4 = drill.render(FOUND, question=4)[0]["points"]
    zh, en = next(p for p in q4 if "Slow reader." in p[1])
    assert (
        "hold 12.6 MiB with an unbounded queue" in en
        and "0.0 MiB with backpressure" in en
        and "12.6 MiB" in zh
    )
    zh, en = next(p for p in q4 if "Concurrency." in p[1])
    assert "held 500 streams" in en and "170.6 ms" in en and "24.0 KiB" in en and "15.6% CPU" in en, (
        "the most streams that were all served: not 1000"
    )
    assert "500 个流" in zh and "170.6 毫秒" in zh


def test_notebook_08s_words_for_how_tokens_came_are_said_in_both_languages():
    found = copy.deepcopy(FOUND)
    found["production.proxy"]["value"]["delivery"]["nginx defaults"] = "in 3 bursts"
    found["production.proxy"]["value"]["pings_kept_it_open"] = False
    zh, en = next(p for p in drill.render(found, question=2)[0]["points"] if "behind nginx" in p[1])
    assert "arrived in 3 bursts" in en and "分 3 批到达" in zh
    assert "did not keep it open" in en and "没能保住" in zh
    found["production.proxy"]["value"]["delivery"]["nginx defaults"] = (
        "trickled"  # a phrase this drill does not know
    )
    zh, en = next(
        p
        for p in drill.render(found, question=2)[0]["points"]
        if "notebook 08" in p[1] or "Not measured" in p[1]
    )
    assert "older format" in en or "Not measured yet" in en


def test_the_agent_measurements_strengthen_questions_3_and_4_with_labelled_numbers():
    q3 = dict(drill.render(FOUND, question=3)[0]["points"])
    zh, en = next((zh, en) for zh, en in q3.items() if "I measured a stop (" in en)
    assert "offline simulated model" in en and "离线模拟模型" in zh, (
        "only the embedded model records a stop: it is a simulation"
    )
    assert "after 5 chunks" in en and "0.7 ms after the cancel" in en and "5 tokens" in en
    assert "5 个数据块" in zh and "0.7 毫秒" in zh
    q4 = drill.render(FOUND, question=4)[0]["points"]
    zh, en = next((zh, en) for zh, en in q4 if "Cost." in en)
    assert "4-turn chat" in en and "385 input tokens" in en and "against 41" in en and "9.4×" in en
    assert "385 个输入 token" in zh and "9.4 倍" in zh
    assert "notebook 05's model" in en and "笔记本 05 所用的模型" in zh, (
        "the record names no model: say where it came from, claim no model"
    )


def test_a_stream_that_never_stopped_is_said_so():
    found = copy.deepcopy(FOUND)
    found["agent.stopped_stream"]["value"]["stop_delay"] = None
    zh, en = next(p for p in drill.render(found, question=3)[0]["points"] if "I measured a stop (" in p[1])
    assert "did not stop after the cancel" in en and "一直没有停下" in zh


def test_the_glossary_filtered_to_the_answers_lists_their_terms_in_order_of_use():
    terms = drill.terms_used(FOUND)
    chinese = drill.text(FOUND, "zh")
    assert len(terms) >= 20 and all(term.zh in chinese for term in terms)
    positions = [chinese.index(term.zh) for term in terms]
    assert positions == sorted(positions)
    assert terms[0].zh == "流式输出"
    unused = [term for term in glossary.TERMS if term not in terms]
    assert unused and not any(term.zh in chinese for term in unused)


def test_notebook_11_answers_each_question_through_the_drill_and_carries_chinese_lines():
    import nbformat

    from helpers import course

    notebook = course.by_number("11")
    cells = nbformat.read(notebook.path, as_version=4).cells
    title, goals = cells[1].source.split("**Learning goals.**")
    assert title.startswith("# 11 ·") and notebook.title_zh in title.splitlines()[1], (
        "a Chinese line under the title"
    )
    assert re.search(r"^\*\*学习目标\*\*：.*" + CJK.pattern, goals, re.M), (
        "a Chinese line for the learning goals"
    )
    summary = next(c.source for c in cells if c.source.startswith("## Summary"))
    assert re.search(r"^\*\*小结\*\*：.*" + CJK.pattern, summary, re.M), "a Chinese line for the summary"

    starts = [
        next(
            i
            for i, c in enumerate(cells)
            if c.cell_type == "markdown" and f"## Question {q.number} ·" in c.source
        )
        for q in QUESTIONS
    ]
    for question, start, end in zip(QUESTIONS, starts, [*starts[1:], len(cells)]):
        heading = cells[start].source
        assert f"**问题{question.number}: {question.asked_zh}**" in heading, (
            "the question in the source's own words"
        )
        shown = [
            c
            for c in cells[start:end]
            if c.cell_type == "code"
            and c.source.strip() == f"drill.DrillView(found, question={question.number})"
        ]
        assert len(shown) == 1, f"question {question.number}: its answer comes from helpers.drill, once"
        plain = [o.data["text/plain"] for o in shown[0].outputs if o.output_type == "execute_result"]
        assert plain == [
            drill.DrillView(FOUND, question=question.number)._repr_mimebundle_()["text/plain"]
        ], "committed executed, with the widget's fixed text"


def test_the_gaps_are_what_no_notebook_recorded_and_name_the_notebook_to_run():
    recorded = {
        name: {**FOUND.get(name, {"value": None}), "source": "NN_some_notebook"} for name in evidence.KEYS
    }
    assert drill.gaps(recorded) == {}, (
        "everything recorded by its notebook: nothing to say, whatever the course's list of names"
    )
    partly = {name: value for name, value in recorded.items() if name != "transport.bytes"}
    partly["server.first_byte"] = {**partly["server.first_byte"], "source": "11 (quick)"}
    assert drill.gaps(partly) == {
        "server.first_byte": "measured here, quickly",
        "transport.bytes": "not measured yet",
    }
    assert drill.recorded_by("transport.bytes") == "07" and drill.recorded_by("agent.stopped_stream") == "05"
