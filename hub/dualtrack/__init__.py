"""Dual-track mirror mode (双轨运行): the old and the new system of a department side by
side, their canonical messages compared, and cutover made on evidence.

For the running hub:
    DualTrack(store, settings).offer(envelope) / .offer_many(envelopes) / .expire()
    current_mode(store, settings, dept), primary_track(store, settings, dept)
Knows no transport: it is fed envelopes (dicts) and keeps its state in the store."""
from .compare import Verdict, compare
from .config import MODES, PRIMARY, DualTrackConfigError, load_config
from .matcher import VERDICTS, Comparison, DualTrack
from .modes import (NotReady, compared, current_mode, cutover, is_primary, mode_info, primary_track, read_tracks,
                    rollback, set_mode)
from .readiness import Readiness, readiness
from .rules import Rules

__all__ = ["Verdict", "compare", "MODES", "PRIMARY", "DualTrackConfigError", "load_config", "VERDICTS",
           "Comparison", "DualTrack", "NotReady", "compared", "current_mode", "cutover", "is_primary", "mode_info",
           "primary_track", "read_tracks", "rollback", "set_mode", "Readiness", "readiness", "Rules"]
