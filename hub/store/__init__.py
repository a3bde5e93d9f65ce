"""Persistence for Tongban Hub: message log (lineage), source checkpoints,
delivery ledger, dead letters and the audit trail, on SQLite (default),
PostgreSQL or MariaDB/MySQL. The only part of ``hub`` that imports SQLAlchemy.

    store = Store.open()            # $TONGBAN_DB_URL or sqlite:///var/tongban.db
    store.record_deliveries("platform", rows)
"""

from .dead_letters import PAYLOAD_ENCODING_HEADER, STAGES, STATUSES
from .ledger import OUTCOMES
from .store import Store

__all__ = ["Store", "STAGES", "STATUSES", "OUTCOMES", "PAYLOAD_ENCODING_HEADER"]
