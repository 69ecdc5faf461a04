"""Papers: pages rendered as A4 PDF for people to carry, pin up or hand to leadership.

One function, :func:`html_to_pdf`, turns rendered HTML into PDF bytes with WeasyPrint (its
system libraries and a CJK font come from ``deploy/local/papers.sh`` and the Dockerfile).
Every paper shares the A4 stylesheet ``static/paper.css``; a paper's template extends
``paper.html``. The renderer reads nothing from the network: a paper's images and styles are
this package's own files or ``data:`` URLs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi.responses import Response

from web.frontend.exports import disposition

STATIC = Path(__file__).resolve().parents[1] / "static"
PAPER_CSS = STATIC / "paper.css"
PDF = "application/pdf"


class PaperFetchRefused(Exception):
    """A paper asked for a resource that is not one of the frontend's own files."""


def check_fetch(url: str) -> None:
    """Raise :class:`PaperFetchRefused` unless ``url`` is a ``data:`` URL or one of the
    frontend's static files: a name or note typed into the roster could carry an
    ``<img src="http://...">``, and no request may leave the server while a paper is made."""
    if url.startswith("data:"):
        return
    if url.startswith("file://"):
        path = Path(unquote(urlsplit(url).path)).resolve()
        if path.is_relative_to(STATIC):
            return
    raise PaperFetchRefused(url)


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
        """WeasyPrint's fetcher, for the frontend's own files and ``data:`` URLs only."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            check_fetch(url)
            return super().fetch(url, headers)

    return LocalOnly()


def render_pdf(html: str) -> bytes:
    """Rendered HTML as PDF bytes (A4, the papers' stylesheet), synchronously.

    Blocking and CPU-bound: from a request, call :func:`html_to_pdf`."""
    from weasyprint import CSS, HTML  # a large import: loaded when the first paper is made

    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=_fetcher())
    pdf: bytes = document.write_pdf(stylesheets=[CSS(filename=str(PAPER_CSS))])
    return pdf


async def html_to_pdf(html: str) -> bytes:
    """Rendered HTML as PDF bytes (A4), made in a worker thread so the server keeps
    answering other requests meanwhile."""
    return await asyncio.to_thread(render_pdf, html)


def pdf_response(pdf: bytes, name: str, fallback: str) -> Response:
    """A PDF download named ``name`` (RFC 6266 ``filename*``), ``fallback`` in ASCII."""
    headers = {"Content-Disposition": disposition(name, fallback)}
    return Response(pdf, media_type=PDF, headers=headers)
