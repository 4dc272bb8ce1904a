"""HTML → PDF on the server with WeasyPrint (no browser): A4 pages, fonts embedded (subsets).

WeasyPrint lays out the page with its own CSS engine (``@page`` rules, page counters) and draws it
with Pango/HarfBuzz (Debian ``libpango-1.0-0``, ``libpangoft2-1.0-0``); every font it uses is
embedded in the PDF. The pages rendered here are self-contained (inline CSS and SVG), so the URL
fetcher refuses anything but ``data:`` URLs: rendering never reaches the network or the disk.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from geo.errors import ArtoisError

# WeasyPrint logs a warning for each CSS rule meant for browsers only (SVG paint properties it takes from
# attributes, screen media queries): expected, and noise in the service's log.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


class PdfUnavailableError(ArtoisError):
    """WeasyPrint or the system libraries it needs (Pango) are not installed."""


def _no_external_fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    """WeasyPrint URL fetcher: ``data:`` URLs only (the pages embed every asset)."""
    from weasyprint.urls import default_url_fetcher

    if url.startswith("data:"):
        result: dict[str, Any] = default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)
        return result
    raise ValueError(f"external resource refused in a PDF: {url[:80]}")


_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_SVG_RULE = re.compile(r"(?m)^\s*(svg[^{@]*\{[^}]*\})")
_SVG_OPEN = re.compile(r"(<svg\b[^>]*>)", re.I)


def _no_halo(rule: str) -> str:
    """A rule drawing a text halo (``paint-order: stroke``, unsupported by WeasyPrint) without its stroke,
    which would otherwise be painted over the text and hide it."""
    if "paint-order" not in rule:
        return rule
    return re.sub(r"(paint-order|stroke|stroke-width)\s*:[^;}]*;?\s*", "", rule)


def svg_styles_inline(html: str) -> str:
    """Copy the page's ``svg …`` CSS rules into a ``<style>`` inside every inline ``<svg>``.

    WeasyPrint draws inline SVG with its own renderer, which applies the SVG's own stylesheets but not
    the HTML page's: without this, classes styled by the page (bar colours, label sizes) lose their paint.
    Text halos are dropped (:func:`_no_halo`).
    """
    rules = [_no_halo(r) for block in _STYLE.findall(html) for r in _SVG_RULE.findall(block)]
    if not rules:
        return html
    style = "<style>" + " ".join(rules) + "</style>"
    return _SVG_OPEN.sub(lambda m: m.group(1) + style, html)


def html_to_pdf(html: str, *, title: str | None = None, created: dt.datetime | None = None) -> bytes:
    """The PDF of one self-contained HTML page.

    Parameters
    ----------
    html
        The page (its CSS ``@page`` rule sets the paper size, A4 for the reports).
    title
        Document title of the PDF metadata (default: the page's ``<title>``).
    created
        Creation date written in the metadata (default: the page's, else none).

    Raises
    ------
    PdfUnavailableError
        WeasyPrint cannot be imported (missing package or Pango library).
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: libpango missing
        raise PdfUnavailableError(f"Le PDF ne peut pas être produit sur ce serveur (WeasyPrint : {exc}).") from exc
    document = HTML(string=svg_styles_inline(html), url_fetcher=_no_external_fetch).render()
    if title:
        document.metadata.title = title
    if created is not None:
        document.metadata.created = created.isoformat(timespec="seconds")
    pdf: bytes = document.write_pdf()
    return pdf
