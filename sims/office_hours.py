"""When legacy systems write: office hours, Monday to Friday 08:30-17:30 (shared by the simulators)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta


def office_moment(dt: datetime, rng: random.Random) -> datetime:
    """The first office moment at or after dt; a morning start is spread over the first half hour."""
    if (dt.hour, dt.minute) >= (17, 30):
        dt = (dt + timedelta(days=1)).replace(hour=8, minute=30)
    if (dt.hour, dt.minute) < (8, 30):
        dt = dt.replace(hour=8, minute=30 + rng.randint(0, 29), second=rng.randint(0, 59))
    while dt.weekday() >= 5:
        dt = (dt + timedelta(days=1)).replace(hour=8, minute=30 + rng.randint(0, 29))
    return dt
