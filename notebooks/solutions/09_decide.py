import asyncio

from helpers.measure import time_request


def choose(wait_saved, needs_whole_result):
    if needs_whole_result:  # structured output validated whole, moderation, all-or-nothing: section 3
        return "do not stream"
    if wait_saved >= 1.0:
        return "stream"
    if wait_saved >= 0.1:
        return "stream if the UI benefits"
    return "do not stream"


async def decide(products):
    decisions = {}
    for name, product in products.items():
        # like against like: the same product, the same pace, at the same time
        streamed, buffered = await asyncio.gather(time_request(product["url"] + "/streamed"), time_request(product["url"] + "/buffered"))
        wait_saved = buffered.ttfb - streamed.ttfb
        decisions[name] = {"wait_saved": wait_saved, "decision": choose(wait_saved, product["needs_whole_result"])}
    return decisions
