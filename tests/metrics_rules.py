"""The label rules of /metrics (hub/observability/metrics.py), as one check the unit and
integration tests share: only the hub's own vocabulary as labels, never a case number or
personal data."""
from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from hub.observability.metrics import LABELS

# Labels prometheus-client itself adds: a histogram's bucket bound.
BUILTIN = {"le"}
# A label value is a name from the hub's vocabulary: platform, commerce.new, missing_old, "".
VALUE = re.compile(r"^[a-z][a-z0-9_.\-]{0,39}$|^$")


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def label_problems(text: str, forbidden: set[str] = frozenset()) -> list[str]:
    """Every breach of the rules in a /metrics body; forbidden: values that must not appear
    anywhere (case numbers, names, ID numbers of the traffic)."""
    problems = []
    for fam in text_string_to_metric_families(text):
        if not fam.name.startswith("tongban_"):
            continue
        for s in fam.samples:
            for key, value in s.labels.items():
                if key in BUILTIN:
                    continue
                if key not in LABELS:
                    problems.append(f"{s.name}: label {key!r} is not one of {LABELS}")
                if not VALUE.match(value):
                    problems.append(f"{s.name}: {key}={value!r} is not a vocabulary name")
    problems += [f"{v!r} appears in /metrics" for v in forbidden if v and v in text]
    return problems


def value(fams: dict, name: str, **labels) -> float:
    """Sum of a family's samples (by sample name) whose labels include these."""
    total = 0.0
    for fam in fams.values():
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total
