"""The governance registers' tables (portal.lists.tables.Table, django-tables2 columns)."""
import django_tables2 as tables
from django.utils.html import format_html
from django.utils.text import Truncator

from portal.lists.tables import Table
from workshops.choices import colour


class DocumentTable(Table):
    """The document roadmap's documents and products."""

    name = "workshops.documents"
    group = tables.Column(verbose_name="Group")
    reference = tables.Column(verbose_name="Schedule 6.3 ref")
    timing = tables.Column(verbose_name="Timing")
    name_ = tables.Column(accessor="name", verbose_name="Product name")
    content = tables.Column(verbose_name="Content")
    owner = tables.Column(accessor="owner__code", verbose_name="Owner")
    current_version = tables.Column(verbose_name="Version")
    category = tables.Column(verbose_name="Category")

    fixed = ("name_",)
    default_columns = ("group", "reference", "timing", "name_", "content", "owner", "current_version")
    sorts = {"group": "group", "reference": "reference", "name_": "name", "owner": "owner__code"}  # noqa: RUF012
    default_sort = "group"

    class Meta(Table.Meta):
        empty_text = "No documents match."

    def render_name_(self, value, record):
        badge = ""
        if record.category == "artefact":
            badge = format_html(' <span class="badge badge-{}">{}</span>', colour(record.category),
                                record.get_category_display())
        return format_html('<a href="{}">{}</a>{}', record.get_absolute_url(), value, badge)

    def render_content(self, value):
        return format_html("<small>{}</small>", Truncator(value).words(25))

    def render_category(self, value, record):
        return record.get_category_display()

    def value_name_(self, value):
        return value

    def value_content(self, value):
        return value

    def value_category(self, value):
        return value


def _badge(value, label):
    return format_html('<span class="badge badge-{}">{}</span>', colour(value), label)


class RaidTable(Table):
    """The RAID log's items, newest first."""

    name = "workshops.raid"
    reference = tables.Column(verbose_name="Ref")
    kind = tables.Column(verbose_name="Kind")
    topic = tables.Column(verbose_name="Topic")
    title = tables.Column(verbose_name="Title")
    originator = tables.Column(accessor="originator__code", verbose_name="Originator")
    owner = tables.Column(verbose_name="Owner")
    score = tables.Column(verbose_name="Score", attrs={"td": {"class": "num"}})
    status = tables.Column(verbose_name="Status")
    raised = tables.Column(accessor="created_at", verbose_name="Raised")

    fixed = ("reference",)
    default_columns = ("reference", "kind", "topic", "title", "originator", "owner", "score", "status")
    sorts = {"reference": "pk", "kind": "kind", "score": "score", "status": "status",  # noqa: RUF012
             "raised": "created_at"}
    default_sort = "-reference"

    class Meta(Table.Meta):
        empty_text = "No RAID items match."

    def render_reference(self, value, record):
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), value)

    def render_kind(self, value, record):
        return _badge(record.kind, record.get_kind_display())

    def render_status(self, value, record):
        return _badge(record.status, record.get_status_display())

    def render_raised(self, value):
        from portal.templatetags.formatting import when

        return when(value)

    def value_reference(self, value):
        return value

    def value_kind(self, value, record):
        return record.kind

    def value_status(self, value, record):
        return record.status

    def value_raised(self, value):
        return value.isoformat() if value else ""


def _consultation_state(record):
    from django.utils import timezone

    today = timezone.localdate()
    if record.opens > today:
        return "not open yet"
    return "closed" if record.closes < today else "open"


class ConsultationTable(Table):
    """Consultations, the latest to open first."""

    name = "workshops.consultations"
    title = tables.Column(verbose_name="Consultation")
    version = tables.Column(verbose_name="Document version", default="—")
    opens = tables.Column(verbose_name="Opens")
    closes = tables.Column(verbose_name="Closes")
    state = tables.Column(accessor="pk", verbose_name="State")

    fixed = ("title",)
    default_columns = ("title", "version", "opens", "closes", "state")
    sorts = {"title": "title", "opens": "opens", "closes": "closes"}  # noqa: RUF012
    default_sort = "-opens"

    class Meta(Table.Meta):
        empty_text = "No consultations."

    def render_title(self, value, record):
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), value)

    def render_opens(self, value):
        from portal.templatetags.formatting import day

        return day(value)

    def render_closes(self, value):
        from portal.templatetags.formatting import day

        return day(value)

    def render_state(self, value, record):
        state = _consultation_state(record)
        return format_html('<span class="badge badge-{}">{}</span>', "green" if state == "open" else "grey", state)

    def value_title(self, value):
        return value

    def value_version(self, value):
        return str(value) if value else ""

    def value_opens(self, value):
        return value.isoformat()

    def value_closes(self, value):
        return value.isoformat()

    def value_state(self, value, record):
        return _consultation_state(record)
