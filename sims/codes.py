"""Check characters of Chinese identifiers, computed here rather than borrowed, so the
simulators share nothing with the hub's own validation (a bug there cannot hide here)."""
from __future__ import annotations

# GB 32100: the 31 characters a unified social credit code may use (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check(body: str) -> str:
    """GB 11714 check character for an 8-character organisation code body."""
    if len(body) != 8:
        raise ValueError("an organisation code body has 8 characters")
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def uscc_check(first17: str) -> str:
    """GB 32100 check character for the first 17 characters."""
    if len(first17) != 17:
        raise ValueError("need the first 17 characters")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(dept: str, category: str, region: str, org_body: str) -> str:
    org = org_body + org_code_check(org_body)
    first17 = dept + category + region + org
    return first17 + uscc_check(first17)


def spoil_check(uscc: str, shift: int = 1) -> str:
    """The same code with a wrong final character (shift 1..30)."""
    good = USCC_ALPHABET.index(uscc[-1])
    return uscc[:-1] + USCC_ALPHABET[(good + 1 + shift % 30) % 31]


def to_fullwidth(text: str) -> str:
    """ASCII letters and digits as an IME in full-width mode types them (９１３３…)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def resident_id_check(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of a resident ID number."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    return "10X98765432"[total % 11]


def make_resident_id(region: str, birth: str, serial: int) -> str:
    """region (6 digits), birth date YYYYMMDD, serial 0..999 (its parity is the sex)."""
    first17 = f"{region}{birth}{serial:03d}"
    return first17 + resident_id_check(first17)
