"""Running SQL composed with psycopg.sql through Django's cursor.

Every statement slas writes by hand is a psycopg ``sql.Composable`` (identifiers with
``sql.Identifier``, constants with ``sql.Literal``, values as ``%s`` parameters), never a string
formatted from pieces. It is rendered to text here, just before it runs, so that Django's cursor
wrappers (query logging, ``connection.execute_wrapper``) see the statement as text as they do
for the ORM's. A ``%`` inside a literal (a LIKE pattern) would be read as a placeholder when the
statement has parameters: such statements run without them.
"""
from django.db import connection
from psycopg import sql


def table(model) -> sql.Identifier:
    """A model's table, named by its metadata (never spelled out in SQL)."""
    return sql.Identifier(model._meta.db_table)


def names(columns) -> sql.Composed:
    """A comma-separated list of column identifiers."""
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def text(query: sql.Composable) -> str:
    """The statement as text. On PostgreSQL rendered with the connection's own quoting; elsewhere
    (SQLite accepts standard double-quoted identifiers) without a connection."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        return query.as_string(connection.connection)
    return query.as_string()


def execute(cursor, query: sql.Composable, params=None):
    """cursor.execute of a composed statement (params, when given, fill its %s placeholders)."""
    return cursor.execute(text(query), params)
