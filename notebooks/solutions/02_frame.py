import re


def frame(text: str, event: str) -> str:
    lines = re.split(r"\r\n|\r|\n", text)
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"
