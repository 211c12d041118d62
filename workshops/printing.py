"""Printable agenda and minutes (HTML and PDF) and iCalendar files of meetings."""
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from workshops import selectors

LONDON = ZoneInfo("Europe/London")


def meeting_html(meeting, *, minutes=False):
    """A self-contained HTML page (styles inline, no external files) for printing or PDF."""
    agenda = selectors.meeting_with_agenda(meeting)
    actions = meeting.actions.prefetch_related("owners").order_by("reference")
    return render_to_string("workshops/meeting_print.html", {
        "meeting": meeting, "agenda": agenda, "actions": actions, "minutes": minutes,
        "attendees": meeting.attendees.select_related("organisation"), "organisations": meeting.organisations.all(),
        "printed": timezone.localtime(),
    })


def _no_network(url, *args, **kwargs):
    # The print page is self-contained; refusing every fetch keeps PDF rendering offline and fast.
    raise ValueError(f"external resource refused: {url}")


def meeting_pdf(meeting, *, minutes=False):
    import weasyprint

    html = meeting_html(meeting, minutes=minutes)
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=_no_network).write_pdf()


def _event(meeting):
    event = icalendar.Event()
    event.add("uid", f"meeting-{meeting.pk}@{settings.SITE_URL.split('://', 1)[-1].split('/', 1)[0]}")
    event.add("summary", f"{meeting.title}")
    # Meetings are held at London wall-clock times; the TZID keeps them right across clock changes.
    event.add("dtstart", dt.datetime.combine(meeting.date, meeting.start, tzinfo=LONDON))
    event.add("dtend", dt.datetime.combine(meeting.date, meeting.end, tzinfo=LONDON))
    event.add("dtstamp", timezone.now())
    if meeting.venue:
        event.add("location", meeting.venue)
    lines = []
    for item in meeting.agenda_items.prefetch_related("presenters").order_by("position"):
        when = f"{item.start:%H.%M}–{item.end:%H.%M} " if item.start and item.end else ""
        who = ", ".join(str(p) for p in item.presenters.all())
        lines.append(f"{item.position}. {when}{item.title}" + (f" ({who})" if who else ""))
    event.add("description", "\n".join(lines) or meeting.title)
    event.add("url", f"{settings.SITE_URL}{meeting.get_absolute_url()}")
    event.add("categories", [meeting.get_kind_display()])
    return event


def calendar_bytes(meetings, *, name):
    """An RFC 5545 calendar (escaping, line folding and VTIMEZONE by the icalendar library)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//DCC operations portal//governance registers//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for meeting in meetings:
        calendar.add_component(_event(meeting))
    calendar.add_missing_timezones()
    return calendar.to_ical()
