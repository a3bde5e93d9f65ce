"""Real servers standing in for the external systems the hub talks to.

They know nothing of the hub: each speaks only its own system's contract, plus an
/_admin/ back door for tests (faults, reset, what was received)."""
from .cluster import Cluster, SimSpec, register, start_all

__all__ = ["Cluster", "SimSpec", "register", "start_all"]
