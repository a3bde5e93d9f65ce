"""月度通报 Reports: the monthly supervision reports written (`tongban report schedule`, the
demo), latest first, the latest HTML one shown on the page; every role that reads may see them."""
from __future__ import annotations

from starlette.responses import FileResponse, HTMLResponse

from hub.report.schedule import list_reports, report_file, reports_dir

from ..web import console_of, route

_TYPES = {"html": "text/html; charset=utf-8", "json": "application/json",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def reports(request, user, form):
    ctx = console_of(request)
    rows = list_reports(reports_dir(ctx.settings))
    latest = next((r for r in rows if r["format"] == "html"), None)
    return ctx.render(request, user, "reports.html", rows=rows, latest=latest,
                      directory=str(reports_dir(ctx.settings)))


def report(request, user, form):
    ctx = console_of(request)
    name = request.path_params["name"]
    path = report_file(reports_dir(ctx.settings), name)
    if path is None:
        return HTMLResponse("没有这份通报 no such report", status_code=404)
    fmt = name.rsplit(".", 1)[-1]
    # the HTML opens in the page; the others download under their own name
    return FileResponse(path, media_type=_TYPES[fmt], filename=None if fmt == "html" else name,
                        content_disposition_type="inline" if fmt == "html" else "attachment")


def routes():
    return [route("/reports", reports), route("/reports/{name}", report)]
