"""The column chooser's POST: remember the columns, back to the list."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from portal.errors import error_text
from portal.generic import POST, view_of
from portal.lists import services
from portal.lists.models import ListPreference
from portal.redirects import safe_next


@view_of(ListPreference, "portal.listpreference.manage_own", methods=POST)
def list_columns(request):
    try:
        services.list_columns_set(user=request.user, table=request.POST.get("table", "")[:60],
                                  columns=request.POST.getlist("columns")[:100],
                                  reset=bool(request.POST.get("reset")))
    except ValidationError as exc:
        messages.error(request, f"Columns: {error_text(exc)}")
    return redirect(safe_next(request, "home"))
