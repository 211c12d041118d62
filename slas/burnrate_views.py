"""Pages of the burn-rate warnings: the rules (thresholds) DCC administrators edit, and the
episodes they have fired, each linking to the failing requests. Their URLs sit at the site's
root (/burn-rate/...), as before they moved here: slas/urls.py lists them in root_urlpatterns."""
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from portal.access import may
from portal.generic import FORBIDDEN, GET, POST, view_of
from portal.scoping import CHANGE, VIEW, get_scoped_or_404, scope
from slas import burnrate
from slas.models import BurnRateEpisode, BurnRateRule


class BurnRateRuleForm(forms.ModelForm):
    class Meta:
        model = BurnRateRule
        fields = burnrate.RULE_FIELDS


def _may_change(user):
    return may(user, "slas.burnraterule.add")


@view_of(BurnRateRule, "slas.burnraterule.view", methods=GET)
def burnrate_rule_list(request):
    rules = scope(request.user, BurnRateRule.objects.all(), VIEW)
    return render(request, "slas/burnrate_rule_list.html",
                  {"rules": rules, "may_change": _may_change(request.user)})


def _rule_form(request, rule):
    form = BurnRateRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in burnrate.RULE_FIELDS}
        try:
            saved = burnrate.burnrate_rule_save(actor=request.user, rule=rule, **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Burn-rate rule {saved.name} saved.")
            return redirect("burnrate_rule_list")
    return render(request, "slas/burnrate_rule_form.html", {"form": form, "rule": rule})


@view_of(BurnRateRule, "slas.burnraterule.add", methods=(*GET, *POST), refused=FORBIDDEN)
def burnrate_rule_create(request):
    # Only DCC administrators change burn-rate rules (configuration).
    return _rule_form(request, None)


@view_of(BurnRateRule, "slas.burnraterule.change", methods=(*GET, *POST))
def burnrate_rule_edit(request, pk):
    # Configuration: everybody may read a rule, only DCC administrators change one.
    rule = get_scoped_or_404(request.user, BurnRateRule, CHANGE, pk=pk)
    return _rule_form(request, rule)



@view_of(BurnRateEpisode, "slas.burnrateepisode.view_list", methods=GET)
def burnrate_episode_list(request):
    episodes = scope(request.user, BurnRateEpisode.objects.select_related("rule"))
    state = request.GET.get("state")
    if state in ("open", "closed"):
        episodes = episodes.filter(state=state)
    page = Paginator(episodes, 50).get_page(request.GET.get("page"))
    rows = [(episode, burnrate.episode_requests_url(episode)) for episode in page]
    return render(request, "slas/burnrate_episode_list.html", {"page": page, "rows": rows, "state": state})
