"""Jinja rendering of the LaTeX sources: layout lives in templates/, data comes from sheet.py.

The environment uses delimiters that cannot clash with LaTeX braces
(``<< var >>``, ``<% block %>``, ``<# comment #>``) and ``StrictUndefined``,
so a misspelt field is an error, not a silent blank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..resources import templates_dir
from .prose import breakable, prose


def environment(folder: Path | None = None):
    """A Jinja environment for LaTeX templates."""
    import jinja2
    from pylatex.utils import escape_latex

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or templates_dir())),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["tex"] = lambda text: escape_latex(str(text))  # raw text such as an error
    env.filters["prose"] = prose
    env.filters["breakable"] = breakable  # a list of symbols in math that may wrap
    env.filters["linkid"] = link_id
    return env


def link_id(anchor: str) -> str:
    """An anchor as a PDF destination name: letters, digits, ``-``, ``.`` and ``:`` only."""
    return "".join(ch if ch.isalnum() or ch in "-.:" else "-" for ch in str(anchor))


def render(template: str, context: dict[str, Any], folder: Path | None = None) -> str:
    """Render one template with a context of plain data."""
    return environment(folder).get_template(template).render(**context)
