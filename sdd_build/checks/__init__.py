"""checks stage: declarative acceptance checks (JMESPath query + one comparison), no eval.

Pure: evaluates parsed output; see :mod:`sdd_build.checks.evaluate` for the comparison and
numeric coercion rules.
"""

from __future__ import annotations

from sdd_build.checks.evaluate import EXCERPT_LIMIT, CheckResult, evaluate, validate_check

__all__ = ["EXCERPT_LIMIT", "CheckResult", "evaluate", "validate_check"]
