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
