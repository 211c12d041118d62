"""Full-text GIN indexes for the global search (portal/search.py), PostgreSQL only.

Each index is over exactly the expression Django writes for
``SearchVector(*fields, config="english")`` (fields joined by ' ', each COALESCEd to ''), so the
search's ``vector @@ websearch_to_tsquery(...)`` can use it. SQLite has no such index type (and
the search uses icontains there), so on any other database this migration does nothing.
"""
from django.db import migrations

# (table, index name, fields in the order portal/search.py passes them to SearchVector)
SEARCH_INDEXES = [
    ("workshops_action", "workshops_action_fts", ["reference", "title", "text"]),
    ("workshops_raiditem", "workshops_raiditem_fts", ["title", "description"]),
    ("workshops_document", "workshops_document_fts", ["name", "reference", "content"]),
    ("workshops_consultation", "workshops_consultation_fts", ["title", "summary"]),
    ("workshops_meeting", "workshops_meeting_fts", ["title", "venue", "minutes"]),
]


def _vector(fields):
    joined = " || ' ' || ".join(f"COALESCE(\"{name}\", '')" for name in fields)
    return f"to_tsvector('english'::regconfig, {joined})"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, fields in SEARCH_INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({_vector(fields)})')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, name, _fields in SEARCH_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("workshops", "0002_announcements"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
