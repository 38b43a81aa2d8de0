"""parse stage: one interface over TextFSM, ntc-templates, TTP and JSON.

Pure: turns recorded or live command output into data; no device I/O. See
:mod:`sdd_build.parse.engines` for the result shape of each engine and the error rules.
"""

from __future__ import annotations

from sdd_build.parse.engines import (
    ENGINES,
    Engine,
    ParserCache,
    check_ntc,
    check_template,
    default_cache,
    parse,
)

__all__ = [
    "ENGINES",
    "Engine",
    "ParserCache",
    "check_ntc",
    "check_template",
    "default_cache",
    "parse",
]
