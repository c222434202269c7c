ENDS = ".!?。"


async def sentences(tokens):
    """Yield each sentence of an async stream of text tokens as soon as its end mark arrives."""
    pending = ""  # the sentence being written: kept between tokens, like any generator's locals
    async for token in tokens:
        for character in token:
            pending += character
            if character in ENDS:
                if pending.strip():
                    yield pending.strip()
                pending = ""
    if pending.strip():  # the stream ended in the middle of a sentence
        yield pending.strip()
