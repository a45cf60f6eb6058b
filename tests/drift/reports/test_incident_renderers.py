from __future__ import annotations

import json

from drift.model.incident import Event, Occurrence, Timeline
from drift.model.report import Level
from drift.reports import changes

T0, T1 = "2026-11-20T01:00:00Z", "2026-11-20T03:00:00Z"
EVIL = Event("files", "files/etc/<script>|x", "/etc/<script>alert(1)</script>|x", "changed", "a", "b",
             "a -> b\x1b[31m", Level.high, ("web",), (Occurrence("web-1", T0, T1),), 2)


def timeline(*events: Event, unobserved: tuple[str, ...] = ()) -> Timeline:
    return Timeline("prod", T0, T1, T1, events, ("web-1", "web-2"), unobserved)


def test_hostile_subjects_are_escaped_in_every_format():
    t = timeline(EVIL)
    html = changes.render_html(t)
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = changes.render_markdown(t)
    assert "\\|x" in md and "\x1b" not in md
    assert "\x1b" not in changes.render_table(t)
    assert json.loads(changes.render_json(t))["events"][0]["subject"] == EVIL.subject


def test_the_table_says_between_what_and_where():
    out = changes.render_table(timeline(EVIL))
    assert "2026-11-20 01:00:00 – 03:00:00" in out and "1 of 2 web: web-1" in out and "high partial" in out


def test_an_empty_window_with_an_unobserved_host_does_not_claim_no_change():
    out = changes.render_table(timeline(unobserved=("web-2",)))
    assert "no changes in the window among the observed hosts" in out
    assert "1 unobserved (no snapshot in the window: unknown, not unchanged): web-2" in " ".join(out.split())


def test_intervals_across_midnight_keep_both_dates():
    assert changes.between("2026-11-19T23:00:00Z", "2026-11-20T01:00:00Z") == \
        "2026-11-19 23:00:00 – 2026-11-20 01:00:00"
    assert changes.between_words(T0, T1) == "between 2026-11-20 01:00:00 and 03:00:00"


def test_an_event_seen_over_time_says_when_it_was_first_and_last_seen():
    spread = Event("packages", "packages/deb/a", "a", "changed", "1", "2", "1 -> 2", Level.medium, ("web",),
                   (Occurrence("web-1", T0, T1), Occurrence("web-2", T0, "2026-11-20T03:00:09Z")), 2)
    assert changes.seen(spread) == "seen 03:00:00 – 03:00:09" and changes.seen(EVIL) == ""
    assert "seen 03:00:00 – 03:00:09" in changes.render_table(timeline(spread))
    assert "<br>seen 03:00:00 – 03:00:09" in changes.render_html(timeline(spread))
