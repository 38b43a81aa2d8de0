"""render stage: Jinja2 templates and inline design strings, compiled once, rendered per host.

Pure: no device I/O, no design loading. See :mod:`sdd_build.render.library` for the
guarantees (located errors, the command-injection guard, the sandbox).
"""

from __future__ import annotations

from sdd_build.errors import FilterError  # what a filter raises (defined in the error tree)
from sdd_build.render.filters import FILTERS
from sdd_build.render.library import TemplateLibrary

__all__ = ["FILTERS", "FilterError", "TemplateLibrary"]
