"""GB/T 2260 administrative division codes (行政区划代码) and the years each was in force.

Source: python-stdnum 2.2's stdnum/cn/loc.dat (in the installed package), built from
zh.wikipedia's 中华人民共和国行政区划代码 lists (1区 to 8区, its header names the pages),
which record every county-level code since the 1980 edition with the years it was used,
e.g. ``[-2010]崇文区`` or ``[1983-2021]下城区``; the newest change it carries is of 2025.
The years are whole years: a code abolished in July 2010 is in force for all of 2010.

We add what that list lacks (SUPPLEMENT below, each entry with its source), and nothing else:
a code it does not know is unknown."""
from __future__ import annotations

from functools import lru_cache

from stdnum import numdb

# Codes loc.dat (stdnum 2.2) lacks although they are in force: 杭州's 2021 reorganisation
# (国务院 approval of March 2021; 民政部's 2021 list of county-level codes) replaced
# 330103 下城区 and 330104 江干区, which loc.dat does end in 2021, by these two.
# code -> [(first year, last year or None, name)]
SUPPLEMENT: dict[str, list[tuple[int | None, int | None, str]]] = {
    "330113": [(2021, None, "临平区")],
    "330114": [(2021, None, "钱塘区")],
}


def _entries(county: str) -> list[tuple[int | None, int | None, str]]:
    """'[-1991]东郊区,[1992-]东丽区' -> [(None, 1991, '东郊区'), (1992, None, '东丽区')]"""
    out = []
    for part in county.split(","):
        if not part.startswith("["):
            out.append((None, None, part))
            continue
        years, name = part[1:].split("]", 1)
        start, end = years.split("-")
        out.append((int(start) if start else None, int(end) if end else None, name))
    return out


@lru_cache(maxsize=8192)
def spans(code: str) -> tuple[tuple[int | None, int | None, str], ...]:
    """Every (first year, last year, name) the 6-digit code has had; () if it was never a code."""
    if code in SUPPLEMENT:
        return tuple(SUPPLEMENT[code])
    if len(code) != 6 or not code.isdigit():
        return ()
    found = [props["county"] for _, props in numdb.get("cn/loc").info(code) if "county" in props]
    return tuple(e for county in found for e in _entries(county))


def known(code: str) -> bool:
    return bool(spans(code))


def in_force_in_or_after(code: str, year: int) -> bool:
    """Whether the code was still a code in that year or came into force later.

    This, not "in force in the birth year", is the test for a resident ID's region: the
    number is given where the holder is registered when it is issued, which may be long after
    the birth (people born in 1960 in 西湖区 hold 330106 numbers although 330106 dates from
    1983). What no number can carry is a code abolished before its holder was born."""
    return any(end is None or end >= year for _, end, _ in spans(code))


def province_known(code: str) -> bool:
    """The first two digits name a province-level division (any year)."""
    return len(code) >= 2 and code[:2].isdigit() and bool(numdb.get("cn/loc").info(code[:2])[0][1])
