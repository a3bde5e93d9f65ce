"""The provincial item catalogue as the runtime uses it: the check a mapped case must pass.
Here, below hub/runtime, rather than in hub/ops beside `tongban catalog sync`, because the
source worker applies it to every envelope and the runtime may not import hub/ops."""
from .check import CatalogueCheck

__all__ = ["CatalogueCheck"]
