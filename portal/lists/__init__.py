"""Register lists as good as NetBox's, built once for every app (django-tables2 for the columns).

- tables.py: ``Table`` (a register's columns, the sorts it allows, its default columns), the
  list's state read from the query string (sort whitelist, page size), result counts (exact
  when cheap, the planner's estimate on large tables), the bulk selection of rows (bounded,
  scoped) and the filter form made readable ("Any", date pickers, labels for people);
- models.py: ``ListPreference``, the columns a person chose for one table;
- services.py, views.py, urls.py: remembering the chosen columns.

``portal.generic.ObjectListView`` uses all of it when a list declares ``table_class``; the
template is templates/partials/list.html.
"""
