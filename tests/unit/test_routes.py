"""Content-based routes from config/routes.yaml."""
from __future__ import annotations

import textwrap

import pytest

from hub.routing import Route, destinations_for, load_routes
from unit_data import ROOT

ROUTES_FILE = ROOT / "config" / "routes.yaml"


@pytest.fixture(scope="module")
def routes():
    return load_routes(ROUTES_FILE)


@pytest.mark.parametrize("event", ["accepted", "in_review", "certificate_issued", "completed", "rejected"])
def test_every_case_event_goes_to_the_platform(routes, event):
    assert "platform" in destinations_for(routes, "commerce", "case_event", event)


@pytest.mark.parametrize("event", ["accepted", "in_review", "certificate_issued"])
def test_undecided_case_events_do_not_go_to_the_province(routes, event):
    assert "province" not in destinations_for(routes, "commerce", "case_event", event)


def test_decisions_go_to_both(routes):
    assert destinations_for(routes, "commerce", "case_event", "decided") == ["platform", "province"]


def test_certificates_go_to_the_province_only(routes):
    assert destinations_for(routes, "commerce", "certificate", "issued") == ["province"]


def test_routes_hold_for_every_department(routes):
    for dept in ("ndrc", "housing", "commerce", "land"):
        assert {"platform", "province"} <= set(destinations_for(routes, dept, "case_event", "decided"))


def test_an_unrouted_kind_has_no_destination(routes):
    assert destinations_for(routes, "commerce", "service_item", "updated") == []


def test_routes_compile_to_topic_patterns(routes):
    patterns = {(r.destination, p) for r in routes for p in r.patterns()}
    assert ("platform", "*.case_event.*") in patterns
    assert ("province", "*.case_event.decided") in patterns
    assert ("province", "*.certificate.*") in patterns


def test_patterns_of_a_route_with_departments_and_events():
    r = Route(name="x", destination="province", departments=("commerce", "land"), kind="case_event",
              events=("decided", "completed"))
    assert r.patterns() == ["commerce.case_event.decided", "commerce.case_event.completed",
                            "land.case_event.decided", "land.case_event.completed"]
    assert r.matches("land", "case_event", "completed")
    assert not r.matches("housing", "case_event", "decided")
    assert not r.matches("land", "certificate", "decided")


def write(tmp_path, text: str):
    path = tmp_path / "routes.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_routes_file_with_departments_and_single_values(tmp_path):
    path = write(tmp_path, """
        routes:
          - destination: province
            match: {department: land, kind: certificate}
          - name: housing decisions
            destination: province
            match: {department: [housing], kind: case_event, event: decided}
    """)
    a, b = load_routes(path)
    assert a.name == "route 1" and a.departments == ("land",) and a.events == ()
    assert b.events == ("decided",) and b.departments == ("housing",)
    assert destinations_for([a, b], "land", "certificate", "issued") == ["province"]
    assert destinations_for([a, b], "commerce", "certificate", "issued") == []


def test_an_empty_routes_file_has_no_routes(tmp_path):
    assert load_routes(write(tmp_path, "# nothing routed yet\n")) == []


@pytest.mark.parametrize("text, mentions", [
    pytest.param("""
        routes:
          - name: x
            match: {kind: case_event}
    """, "destination", id="no-destination"),
    pytest.param("""
        routes:
          - destination: platform
            match: {event: decided}
    """, "kind", id="no-kind"),
    pytest.param("""
        routes:
          - destination: platform
    """, "match", id="no-match"),
])
def test_a_route_missing_a_key_is_named(tmp_path, text, mentions):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_routes(path)
    assert str(path) in str(info.value) and "route 1" in str(info.value) and mentions in str(info.value)


@pytest.mark.parametrize("text", [
    pytest.param("""
        routes:
          - destination: platform
            match: case_event
    """, id="match-is-a-string"),
    pytest.param("""
        - destination: platform
          match: {kind: case_event}
    """, id="top-level-list"),
    pytest.param("""
        routes:
          - platform
    """, id="route-is-a-string"),
    pytest.param("""
        routes:
          - destination: province
            match: {kind: case_event, events: [decided]}
    """, id="misspelt-match-key"),
    pytest.param("""
        routes:
          - destination: province
            match: {kind: case_event, event: [decided]}
            destinaton: platform
    """, id="misspelt-route-key"),
])
def test_a_malformed_routes_file_is_a_clear_error(tmp_path, text):
    # BUG hub/routing/routes.py load_routes(): only KeyError/TypeError are turned into a
    # ValueError naming the file. `match: case_event` and a top-level list raise a bare
    # AttributeError ('str'/'list' object has no attribute 'get'); a route that is a string says
    # "route 1 is missing string indices must be integers"; and unknown keys are ignored, so the
    # typo `events: [decided]` silently widens the route to EVERY case event going to the province.
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_routes(path)
    assert str(path) in str(info.value)
    assert "string indices" not in str(info.value)
