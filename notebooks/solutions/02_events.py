import codecs


async def events(chunks):
    """Yield (type, data) for each event a browser would dispatch, from an async stream of byte chunks."""
    utf8 = codecs.getincrementaldecoder("utf-8")()  # keeps a character's first bytes until the rest arrive
    text, after_cr, started = "", False, False
    event_type, data = "", []
    async for chunk in chunks:
        new = utf8.decode(chunk)
        if not started and new:
            started, new = True, new.removeprefix("\ufeff")  # a byte order mark only at the very start
        if after_cr and new:
            after_cr, new = False, new.removeprefix("\n")  # the LF of a CRLF split between chunks
        text += new
        while True:
            ends = [i for i in (text.find("\r"), text.find("\n")) if i != -1]
            if not ends:
                break
            end = min(ends)
            line = text[:end]
            if text[end] == "\r" and end + 1 == len(text):
                after_cr, text = True, ""  # a CR ends the line now; an LF may follow in the next chunk
            else:
                text = text[end + (2 if text[end : end + 2] == "\r\n" else 1) :]
            if line == "":  # a blank line dispatches, if there is data
                if data:
                    yield event_type or "message", "\n".join(data)
                event_type, data = "", []
            elif not line.startswith(":"):  # a comment is ignored
                field, colon, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    event_type = value
                elif field == "data":
                    data.append(value)
