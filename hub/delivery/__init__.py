"""Destination clients. Each is built from its settings by `create`."""
from .base import ACCEPTED, DUPLICATE, DeliveryError, Destination, MessageMeta
from .platform_rest import PlatformRest
from .province_soap import ProvinceSoap

TYPES = {"platform_rest": PlatformRest, "province_soap": ProvinceSoap}


def create(name: str, settings: dict) -> Destination:
    kind = settings.get("type")
    if kind not in TYPES:
        raise ValueError(f"destination {name}: unknown type {kind!r} (known: {', '.join(TYPES)})")
    args = {k: v for k, v in settings.items() if k != "type"}
    return TYPES[kind](name=name, **args)


__all__ = ["ACCEPTED", "DUPLICATE", "DeliveryError", "Destination", "MessageMeta", "create"]
