"""What an adapter is (interface, config spec) and how the hub finds one (registry)."""
from .base import Adapter, CheckResult, Page, PageUnreadable, RawRecord, Sink, Source, SourceUnavailable
from .spec import ConfigSpec, Field

__all__ = ["Adapter", "CheckResult", "Page", "PageUnreadable", "RawRecord", "Sink", "Source", "SourceUnavailable",
           "ConfigSpec", "Field"]
