async def final_fields(partials):
    """Yield (field, value) once per top-level field, as soon as that field is final.

    JSON keys arrive in order: when a new key appears, every key before it is complete.
    The last key is complete only when the stream ends.
    """
    done, last = set(), {}
    async for partial in partials:
        for field in list(partial)[:-1]:  # all but the key still being written
            if field not in done:
                done.add(field)
                yield field, partial[field]
        last = partial
    for field, value in last.items():
        if field not in done:
            yield field, value
