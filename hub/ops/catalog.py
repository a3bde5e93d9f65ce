"""`tongban catalog sync`: the provincial catalogue's items into the store, where the check
applied after mapping (hub/catalog/) reads them."""
from __future__ import annotations

import requests

from hub import exactjson
from hub.mapping import MappingSet, RecordError

SYSTEM = "province-catalogue"


def sync(settings: dict, store, mappings: MappingSet | None = None, page_size: int = 50, progress=None) -> dict:
    """progress(done, total): called after each page (the CLI's progress bar)."""
    url = settings["catalogue"]["url"].rstrip("/")
    mappings = mappings or MappingSet.load(settings["mappings_dir"])
    session = requests.Session()
    session.trust_env = False
    items, refused, page = [], [], 1
    while True:
        resp = session.get(f"{url}/api/v1/items", params={"page": page, "pageSize": page_size}, timeout=30)
        resp.raise_for_status()
        body = exactjson.loads(resp.content)   # numbers exact, a duplicate key refused
        for record in body["items"]:
            try:
                env = mappings.apply(SYSTEM, record)[0]
            except RecordError as err:
                refused.append(err.reason)
                continue
            items.append(env.payload.model_dump(mode="json"))
        if progress is not None:
            progress(min(page * page_size, body["total"]), body["total"])
        if page * page_size >= body["total"] or not body["items"]:
            break
        page += 1
    saved = store.save_catalogue(items)
    store.audit("tongban", "catalog.sync", url, "catalogue synchronised", {"items": saved, "refused": len(refused)})
    return {"items": saved, "refused": refused}

