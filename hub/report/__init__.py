"""The monthly supervision report (月度通报): the seed's targets measured from the hub's cases
and the provincial catalogue. figures.py computes (through the store's SQL), html.py and
xlsx.py render, facts.py turns canonical cases into the rows the figures count."""

from .figures import build_report, month_bounds

__all__ = ["build_report", "month_bounds"]
