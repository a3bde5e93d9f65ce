"""Who may do what. Deny by default: a permission not granted here is refused."""
from __future__ import annotations

ROLES = ("viewer", "operator", "handover", "admin")

# read: every page, personal data masked; dlq: replay, release, purge; dualtrack: cutover,
# rollback; users: manage console users; unmasked: see personal data (each view audited)
GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "dlq"}),
    "handover": frozenset({"read", "dualtrack"}),
    "admin": frozenset({"read", "dlq", "dualtrack", "users", "unmasked"}),
}

ROLE_LABELS = {"viewer": "查看 viewer", "operator": "运维 operator", "handover": "交接 handover",
               "admin": "管理员 admin"}

PERMISSION_LABELS = {"read": "查看 read", "dlq": "死信操作 dead-letter actions",
                     "dualtrack": "双轨切换 dual-track actions", "users": "用户管理 users",
                     "unmasked": "查看原文 unmasked view"}


def allowed(role: str | None, permission: str) -> bool:
    return permission in GRANTS.get(role or "", frozenset())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    return role
