"""Serve the pages in helpers/pages/, with the script and style they share."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

__all__ = ["PAGES", "add_pages"]

PAGES = Path(__file__).with_name("pages")
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}


def add_pages(app: FastAPI, routes: dict[str, str]) -> None:
    """`routes` maps a URL path to a file in helpers/pages/; the shared files come along."""
    shared = {"/lab.js": "lab.js", "/lab.css": "lab.css", "/settings.js": "settings.js"}
    for path, name in {**routes, **shared}.items():
        app.add_api_route(path, _reader(PAGES / name), methods=["GET"], include_in_schema=False)


def _reader(file: Path):
    def page() -> Response:
        return Response(file.read_text(encoding="utf-8"), media_type=MEDIA_TYPES[file.suffix])

    return page
