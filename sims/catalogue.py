"""The provincial item catalogue system (省事项目录管理系统), REST and paged.

It serves the items of sims/catalogue_data.py in its own camelCase field names;
`/_admin/items` lets a test add or withdraw an item."""
from __future__ import annotations

from .base import HttpError, Request, Response, SimServer, json_response
from .catalogue_data import items


class CatalogueSim(SimServer):
    name = "catalogue"

    def setup_routes(self) -> None:
        self.route("GET", "/api/v1/items", self.list_items)
        self.route("POST", "/_admin/items", self.admin_items)

    def reset_state(self) -> None:
        self.items = items()

    def list_items(self, req: Request) -> Response:
        try:
            page = int(req.query.get("page", "1") or 1)
            size = int(req.query.get("pageSize", "50") or 50)
        except ValueError:
            raise HttpError(400, "page and pageSize must be integers") from None
        if page < 1 or not 1 <= size <= 200:
            raise HttpError(400, "page must be >= 1 and pageSize between 1 and 200")
        with self.lock:
            chunk = self.items[(page - 1) * size: page * size]
            total = len(self.items)
        return json_response({"total": total, "page": page, "pageSize": size, "items": chunk})

    def admin_items(self, req: Request) -> Response:
        body = req.json() or {}
        with self.lock:
            for code in body.get("withdraw", []):
                self.items = [i for i in self.items if i["basicCode"] != code]
            self.items.extend(body.get("add", []))
            return json_response({"total": len(self.items)})
