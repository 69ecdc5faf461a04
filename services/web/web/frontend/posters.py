"""Printable A4 posters of intake links (扫码反映): HTML rendered to PDF as the papers are.

The poster is a template like the pages (``templates/poster.html``, in the reader's language);
WeasyPrint lays it out with the system's fonts, so the machine needs a CJK font (the deploy
scripts install WenQuanYi Micro Hei) and Pango. The QR code is an SVG data URI made by segno.
"""

from __future__ import annotations

from jinja2 import Environment

from web.frontend import i18n, papers


def poster_html(env: Environment, language: i18n.Language, **values: str) -> str:
    """The poster's HTML: ``name``, ``unit``, ``url`` and ``qr`` (the QR code's data URI)."""
    i18n.CURRENT.set(language)
    return env.get_template("poster.html").render(lang=language, **values)


def poster_pdf(env: Environment, language: i18n.Language, **values: str) -> bytes:
    """The poster as an A4 PDF (see :func:`poster_html` for the values), made as every paper
    is (:func:`web.frontend.papers.render_pdf`)."""
    return papers.render_pdf(poster_html(env, language, **values))
