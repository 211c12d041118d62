"""Shared form checks (portal.forms)."""
import datetime as dt

from django import forms

from portal.forms import WindowForm


class Window(WindowForm):
    window = ("start", "end")
    start = forms.DateTimeField()
    end = forms.DateTimeField()


def test_a_window_must_end_after_it_starts():
    start = dt.datetime(2026, 6, 4, 9, 0)
    assert Window({"start": start, "end": start + dt.timedelta(hours=1)}).is_valid()
    for end in (start, start - dt.timedelta(minutes=1)):
        form = Window({"start": start, "end": end})
        assert not form.is_valid()
        assert form.errors == {"end": ["The window must end after it starts."]}
