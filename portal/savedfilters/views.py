"""Pages of saved filters: save the filters of a list page under a name, delete one."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from portal.generic import POST, view_of
from portal.redirects import safe_next
from portal.savedfilters import services
from portal.savedfilters.forms import SavedFilterForm
from portal.savedfilters.models import SavedFilter
from portal.scoping import VIEW, get_scoped_or_404


@view_of(SavedFilter, "portal.savedfilter.manage_own", methods=POST)
def saved_filter_save(request):
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the filter a name.")
        return redirect(safe_next(request, "home"))
    data = form.cleaned_data
    try:
        saved = services.saved_filter_save(user=request.user, page=data["page"], name=data["name"],
                                           querystring=data["querystring"])
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return redirect(safe_next(request, "home"))
    messages.success(request, f"Filter {saved.name} saved.")
    return redirect(services.saved_filter_url(saved))


@view_of(SavedFilter, "portal.savedfilter.manage_own", methods=POST)
def saved_filter_delete(request, pk):
    saved = get_scoped_or_404(request.user, SavedFilter.objects.filter(user=request.user), VIEW, pk=pk)
    page = saved.page
    services.saved_filter_delete(saved_filter=saved)
    messages.success(request, "Filter deleted.")
    return redirect(safe_next(request, reverse(page)))

