"""Markdown -> HTML for the results page, with no way for the Markdown's text to add markup of its own.

The pages' Markdown holds names and reasons from run records. Python-Markdown passes raw HTML through (a
block preprocessor and an inline pattern stash it verbatim); this renderer deregisters both, so the parser
takes every ``<`` as text and its serializer escapes it. That is chosen over escaping the Markdown source
before rendering, which would double-escape code spans (``&lt;`` shown as such), turn a blockquote's ``>``
into text and still let Markdown's own links through: here no spelling of a tag, however written, reaches
the page, and the two Markdown constructs that carry a URL are checked in the parsed tree: a link keeps its
target only when it is a fragment, a relative path or http(s) (never ``javascript:`` or ``data:``, also not
spelled with entities or control characters), and an image becomes its alt text (the page's own figures
are embedded by ``results.html_page``, not through Markdown). Every text node is bounded too, at
``PARAGRAPH_LIMIT``: the strings from records are bounded where they are written into the Markdown
(``results.escape``, 300 characters), and this second bound must not cut the pages' own paragraphs.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from molpeg_bench.results.escape import bounded

SAFE_SCHEMES = ("", "http", "https")
PARAGRAPH_LIMIT = 3000  # characters of one text node; the longest paragraph of a page is about 700


def safe_url(url: str) -> bool:
    """Whether a link may keep ``url``: a fragment, a relative path or an http(s) address, as the browser
    reads it (entities decoded, the whitespace and control characters it skips removed)."""
    plain = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(url))
    try:
        return urlsplit(plain).scheme.lower() in SAFE_SCHEMES and not plain.startswith("//")
    except ValueError:  # an unparsable address (e.g. a malformed IPv6 host)
        return False


class _InertTree(Treeprocessor):
    """Images to their alt text, unsafe link targets dropped, every text bounded."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag == "img":
                element.tag, element.text = "span", element.get("alt", "")
                element.attrib.clear()
            if element.tag == "a" and not safe_url(element.get("href", "")):
                element.attrib.pop("href")
            element.text = None if element.text is None else type(element.text)(bounded(element.text, PARAGRAPH_LIMIT))
            element.tail = None if element.tail is None else type(element.tail)(bounded(element.tail, PARAGRAPH_LIMIT))


class InertMarkdown(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_InertTree(md), "inert", -1)  # last: after links are made and unescaped


def render(text: str) -> str:
    """The HTML of the Markdown ``text`` (pipe tables included), with raw HTML shown as text."""
    return markdown.markdown(text, extensions=["tables", InertMarkdown()])
