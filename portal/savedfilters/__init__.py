"""Saved filters: a person's named querystrings for one list page, offered again on that page.

- models.py: SavedFilter (app_label "portal", table portal_savedfilter)
- services.py: saved_filter_save, saved_filter_delete, saved_filters_for, clean_querystring
- views.py, urls.py: /filters/save/ and /filters/<pk>/delete/ (URL names without a namespace)
- forms.py: what the save form posts

List pages show them with {% include "partials/saved_filters.html" %} (the saved_filters_box tag
in portal/templatetags/ops_tags.py).
"""
