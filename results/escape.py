"""Text from outside the code (method, dataset and option names, record values, failure reasons) written into
a page, a table or a figure: one escaper per medium, each bounding the length first, so no such string can
add markup, break a table, stop pdflatex or blow up the page.

- ``html_text``: HTML text or a quoted attribute value.
- ``markdown_text``: inline Markdown (a pipe-table cell, a list item): no raw HTML (entities, so the ``.md``
  file is inert in any renderer), no line break or ``|`` that ends a cell, no link, image or code span.
  ``markdown_code``: the text as a code span.
- ``latex_text``: LaTeX text (a cell, a caption) that compiles with the LaTeX kernel alone: its specials,
  ``< > |`` (which the default OT1 font encoding prints as other glyphs), brackets braced (a row starting
  with ``[`` would be read as the optional argument of the ``\\`` before it), Greek letters as math, accented
  letters as accent commands, other non-ASCII as ``?``.
- ``plot_text``: Matplotlib text, where a ``$`` pair would start math (and a malformed one raise).
"""

from __future__ import annotations

import html
import re
import unicodedata

LIMIT = 300  # characters of one string shown; the rest is cut at an ellipsis
ELLIPSIS = "…"


def bounded(text: object, limit: int = LIMIT) -> str:
    """``text`` as a string of at most ``limit`` characters (cut ones end with an ellipsis)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def one_line(text: object) -> str:
    """Bounded, with every run of whitespace (line breaks, tabs) as one space."""
    return re.sub(r"\s+", " ", bounded(text))


def html_text(text: object) -> str:
    return html.escape(bounded(text), quote=True)


_MARKDOWN = {"\\": "\\\\", "|": "\\|", "`": "\\`", "&": "&amp;", "<": "&lt;", ">": "&gt;"}


def markdown_text(text: object) -> str:
    """Inline Markdown showing ``text`` as written."""
    escaped = "".join(_MARKDOWN.get(ch, ch) for ch in one_line(text))
    return re.sub(r"\](?=[(\[:])", r"\\]", escaped)  # ``[a](url)``, ``[a][ref]``, ``[a]: url`` stay text


def markdown_code(text: object) -> str:
    """``text`` as a code span, fenced by more backticks than it holds in a row."""
    text = one_line(text)
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
          "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": "$<$", ">": "$>$", "|": "$|$",
          "[": "{[}", "]": "{]}"}
# combining accents (after NFKD) -> the kernel's accent commands
_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
            "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c"}
_GREEK = {"lamda": "lambda", "final sigma": "varsigma"}
_LATIN_CAPITALS = {"alpha": "A", "beta": "B", "epsilon": "E", "zeta": "Z", "eta": "H", "iota": "I", "kappa": "K",
                   "mu": "M", "nu": "N", "omicron": "O", "rho": "P", "tau": "T", "chi": "X"}


def _greek(char: str) -> str | None:
    """A Greek letter as math (``$\\alpha$``); None for any other character."""
    match = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z ]+)", unicodedata.name(char, ""))
    if not match:
        return None
    name = match.group(2).lower()
    name = _GREEK.get(name, name)
    if match.group(1) == "CAPITAL":
        return _LATIN_CAPITALS.get(name) or rf"$\{name.capitalize()}$"
    return "o" if name == "omicron" else rf"$\{name}$"


def _latex_char(char: str) -> str:
    if char in _LATEX:
        return _LATEX[char]
    if char.isascii():
        return char
    base, *rest = unicodedata.normalize("NFKD", char)
    if base.isascii() and all(mark in _ACCENTS for mark in rest):  # é, ç, ü
        for mark in rest:
            base = rf"\{_ACCENTS[mark]}{{{_LATEX.get(base, base)}}}"
        return base
    if base.isascii() and "".join(rest).isascii():  # ligatures, superscripts: ﬁ, ²
        return "".join(_latex_char(c) for c in (base, *rest))
    return _greek(base) or "?"


def latex_text(text: object) -> str:
    return "".join(_latex_char(ch) for ch in one_line(text))


def plot_text(text: object) -> str:
    """Matplotlib text showing ``text`` as written (line breaks kept)."""
    return bounded(text).replace("$", r"\$")
