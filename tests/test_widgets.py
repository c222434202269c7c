import asyncio
import time

from helpers.widgets import TokenView


def test_a_fast_stream_is_coalesced_and_the_final_state_is_exact():
    view = TokenView("fast", max_rate=30)
    view.start()
    start = time.monotonic()
    for i in range(5000):
        view.feed(f"t{i} ")
    elapsed = time.monotonic() - start
    view.finish()
    assert view.text == "".join(f"t{i} " for i in range(5000))
    assert "t4999" in view._text.value
    assert "5000 tokens" in view._counters.value
    assert view.updates <= 3 + elapsed * 30  # reset, finish and one per interval at most


def test_a_slow_stream_is_shown_token_by_token():
    async def tokens():
        for token in ["a", "b", "c"]:
            await asyncio.sleep(0.05)
            yield token

    view = TokenView(max_rate=30)
    assert asyncio.run(view.consume(tokens())) == "abc"
    assert view.updates >= 4  # each token arrived more than an interval after the previous one
    assert view.time_to_first_token >= 0.04


def test_message_chunks_and_events_are_accepted():
    class Chunk:
        content = "x"

    view = TokenView()
    view.feed(Chunk())
    view.feed("y")
    view.finish()
    assert view.text == "xy"


def test_plain_text_repr_is_stable_for_nbval():
    bundle = TokenView()._repr_mimebundle_()
    assert bundle["text/plain"].startswith("TokenView")
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_perceived_wait_is_the_first_token_against_all_of_them_plus_overheads():
    from helpers.widgets import perceived_wait

    wait = perceived_wait(0.5, 200, 40, {"streamed": 0.01, "buffered": 0.02})
    assert wait == {"streamed": 0.51, "buffered": 0.5 + 5.0 + 0.02}


def test_the_wait_sliders_redraw_the_bars_and_the_decision_when_moved():
    from helpers.widgets import wait_sliders

    decided = []

    def decide(saved):
        decided.append(round(saved, 3))
        return f"saved {saved:.2f} s"

    box = wait_sliders({"streamed": 0.0, "buffered": 0.0}, decide)
    *sliders, picture = box.children
    assert "saved 5.00 s" in picture.value and "5.50 s" in picture.value  # 200 tokens at 40/s after 0.5 s
    sliders[1].value = 200  # tokens/s
    assert "saved 1.00 s" in picture.value and decided[-1] == 1.0


def test_the_feed_and_the_timer_together_stay_under_the_rate():
    # `feed` flushes as tokens arrive and the timer flushes what a slow stream left unshown; each
    # must wait out the interval since the other's flush, or together they draw up to twice as often
    async def tokens():
        for i in range(400):
            await asyncio.sleep(0.002)
            yield f"t{i} "

    view = TokenView(max_rate=30)
    start = time.monotonic()
    asyncio.run(view.consume(tokens()))
    elapsed = time.monotonic() - start
    assert view.text.endswith("t399 ")
    assert view.updates <= 3 + elapsed * 30, f"{view.updates} draws in {elapsed:.2f} s"
