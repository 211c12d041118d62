"""Pages of the ground: home and its dashboard tiles, search, account (password, API token),
organisations, the audit log, errors."""
import sys

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader

from portal import services
from portal.dbrouter import replica_reads
from portal.generic import GET, POST, view_of
from portal.models import ApiToken, Organisation, User


@view_of(None, "portal.dashboard.view")
@replica_reads
def home(request):
    from portal.dashboard import rendered_tiles

    return render(request, "portal/home.html", {"tiles": rendered_tiles(request)})


def _account_page(request, status=200, **extra):
    from portal.forms import ApiTokenForm
    from portal.mfa.selectors import mfa_summary
    from portal.selectors import api_tokens_of, feed_token_of, sign_ins_of

    context = {"tokens": api_tokens_of(request.user), "feed": feed_token_of(request.user),
               "token_form": extra.pop("token_form", None) or ApiTokenForm(), "mfa": mfa_summary(request.user),
               "sign_ins": sign_ins_of(request.user),
               **extra}
    return render(request, "portal/account.html", context, status=status)


@view_of(User, "portal.user.manage_own")
def account(request):
    return _account_page(request)


@view_of(User, "portal.user.manage_own", methods=POST)
def account_token_issue(request, replace=False):
    """Issue an API token (name, read-only, expiry from the form) and show it on this answer only: only
    its digest is stored. ``replace`` (the old "issue a new token" address) revokes the others first."""
    import datetime as dt

    from django.utils import timezone

    from portal.forms import ApiTokenForm

    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _account_page(request, status=400, token_form=form)
    days = form.cleaned_data["expires_in_days"]
    issued = services.api_token_issue(user=request.user, name=form.cleaned_data["name"],
                                      read_only=form.cleaned_data["read_only"],
                                      expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
                                      replace=replace)
    response = _account_page(request, new_token=issued)
    response["Cache-Control"] = "no-store"
    return response


@view_of(User, "portal.user.manage_own", methods=POST)
def account_token_regenerate(request):
    return account_token_issue(request, replace=True)


@view_of(ApiToken, "portal.user.manage_own", methods=POST)
def account_token_revoke(request, pk):
    # Only one's own tokens: any other id is not found, whoever's it is.
    if not services.api_token_revoke(user=request.user, token_id=pk):
        raise Http404("No such API token of yours.")
    messages.success(request, "The API token was revoked: programs using it get 401 now.")
    return redirect("account")


@view_of(User, "portal.user.manage_own", methods=POST)
def account_feed_token_issue(request):
    """Issue a calendar-feed token and show it on this answer only (it is stored as a digest). The page
    is rendered, not redirected to, so the token never passes through the session or a URL."""
    new = services.feed_token_issue(user=request.user)
    response = _account_page(request, new_feed_token=new)
    response["Cache-Control"] = "no-store"
    return response


@view_of(User, "portal.user.manage_own", methods=POST)
def account_feed_token_revoke(request):
    if services.feed_token_revoke(user=request.user):
        messages.success(request, "Your feed token was revoked: calendar programs using it get no feed now.")
    return redirect("account")


def login_locked_out(request, credentials, *args, **kwargs):
    """django-axes lockout: 429 with Retry-After, as for API throttling."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request, "registration/locked_out.html", {"minutes": max(1, seconds // 60)}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _problem_response(request, status: int, detail: str) -> HttpResponse:
    """An error under /api/ as the API answers every error: RFC 9457 problem JSON (docs/api/errors.md)."""
    import json

    from portal.api import PROBLEM_MEDIA_TYPE, problem

    body = json.dumps(problem(status, detail, request.path))
    return HttpResponse(body, status=status, content_type=PROBLEM_MEDIA_TYPE)


def bad_request(request, exception):
    """400 handler (e.g. a disallowed host or a suspicious request): problem JSON under /api/."""
    if _is_api(request):
        return _problem_response(request, 400, "The request could not be understood.")
    from django.views.defaults import bad_request as django_bad_request

    return django_bad_request(request, exception)


def permission_denied(request, exception):
    """403 handler: problem JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return _problem_response(request, 403, "You may not do this.")
    from django.views.defaults import permission_denied as django_permission_denied

    return django_permission_denied(request, exception)


def page_not_found(request, exception):
    """404 handler: an unknown URL under /api/ answers problem JSON; pages elsewhere are as before."""
    if _is_api(request):
        return _problem_response(request, 404, "No such URL in the API.")
    from django.views.defaults import page_not_found as django_page_not_found

    return django_page_not_found(request, exception)


def server_error(request):
    """500 handler. When the database is unreachable the page says so with 503 and Retry-After;
    neither page touches the database nor shows a stack trace. Under /api/ the same answers are
    problem JSON."""
    error = sys.exc_info()[1]
    # Only a lost connection is an outage; a DataError or IntegrityError is a bug of ours and answers 500,
    # so the fuzz gate (which counts 5xx) and the logs see it rather than a polite 503.
    if isinstance(error, (OperationalError, InterfaceError)):
        if _is_api(request):
            response = _problem_response(
                request, 503, "The portal is temporarily unavailable: its database cannot be reached; "
                              "try again shortly.")
        else:
            response = HttpResponse(loader.get_template("503.html").render({}), status=503)
        response["Retry-After"] = "30"
        return response
    if _is_api(request):
        return _problem_response(request, 500, "The server failed to answer; the error is logged.")
    return HttpResponse(loader.get_template("500.html").render({}), status=500)


@view_of(Organisation, "portal.organisation.view")
def organisation_list(request):
    from portal.filtersets import OrganisationFilterSet
    from portal.scoping import scope

    filterset = OrganisationFilterSet(request.GET, queryset=scope(request.user, Organisation))
    return render(request, "portal/organisation_list.html", {"filter": filterset, "organisations": filterset.qs})


@view_of(LogEntry, "portal.audit.view_list", methods=GET)
def audit_log(request):
    """Who changed what, newest first, 50 a page (keyset: no count of a table that only grows),
    filtered by person, object type, object and London days. Who reads what is
    portal.selectors.audit_entries' (DCC: everything; anyone else: one object they may see);
    a filter value that is not valid is an error on its field (400), and no entry is shown."""
    from portal.forms import AuditFilterForm
    from portal.pagination import keyset_page
    from portal.selectors import audit_entries

    form = AuditFilterForm(request.GET, viewer=request.user)
    rows, next_url, status = [], "", 200
    if form.is_valid():
        since, until = form.window()
        entries = audit_entries(request.user, model_label=form.cleaned_data["model"] or None,
                                object_pk=form.cleaned_data["object_pk"] or None,
                                actor=form.cleaned_data["actor"], since=since, until=until)
        rows, next_before = keyset_page(entries, before=request.GET.get("before"), size=AUDIT_PAGE)
        if next_before is not None:
            query = request.GET.copy()
            query["before"] = str(next_before)
            next_url = f"?{query.urlencode()}"
    else:
        status = 400
    first = request.GET.copy()
    first.pop("before", None)
    return render(request, "portal/audit_log.html",
                  {"form": form, "entries": rows, "next_url": next_url,
                   "first_url": f"?{first.urlencode()}", "paged": "before" in request.GET}, status=status)


AUDIT_PAGE = 50


@view_of(None, "portal.dashboard.view", methods=GET)
@replica_reads
def search(request):
    from portal import search as search_module

    query = request.GET.get("q", "").strip()
    groups = search_module.search(request.user, query) if query else []
    return render(request, "portal/search.html", {"query": query, "groups": groups,
                                                  "total": sum(len(g.results) for g in groups)})


@view_of(None, "portal.dashboard.view", methods=GET)
@replica_reads
def dashboard_tile(request, tile):
    from portal import dashboard

    found = dashboard.tile_for(request.user, tile)
    if found is None:
        raise Http404("No such tile")
    return HttpResponse(found.render(request))


# --- an organisation's own people -------------------------------------------------------------


def _people_page(request, form=None, status=200):
    from portal.access import may_assign_role
    from portal.choices import PortalRole
    from portal.forms import InviteForm
    from portal.selectors import people_of_my_organisation

    roles = [role for role in PortalRole.values if may_assign_role(request.user, role)]
    return render(request, "portal/people.html", {
        "people": people_of_my_organisation(request.user),
        "role_choices": [(role, PortalRole(role).label) for role in roles],
        "form": form or InviteForm(roles=roles),
    }, status=status)


@view_of(User, "portal.user.manage_people", methods=GET + POST)
def people(request):
    """The administrator's organisation's people (role, active, last sign-in) and the invite form."""
    from django.core.exceptions import ValidationError

    from portal.access import may_assign_role
    from portal.choices import PortalRole
    from portal.errors import errors_to_form
    from portal.forms import InviteForm

    if request.method != "POST":
        return _people_page(request)
    roles = [role for role in PortalRole.values if may_assign_role(request.user, role)]
    form = InviteForm(request.POST, roles=roles)
    if form.is_valid():
        try:
            person = services.person_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"{person.email} is invited: the e-mail holds a one-time link to choose "
                                      "a password.")
            return redirect("people")
    return _people_page(request, form, status=400)


def _person_action(request, pk, act):
    from django.core.exceptions import ValidationError

    from portal.scoping import get_scoped_or_404

    person = get_scoped_or_404(request.user, User, pk=pk)
    try:
        done = act(person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("people")


@view_of(User, "portal.user.manage_people", methods=POST)
def person_deactivate(request, pk):
    return _person_action(request, pk, lambda person: (
        services.person_set_active(actor=request.user, person=person, active=False),
        f"{person} is deactivated: they can no longer sign in.")[1])


@view_of(User, "portal.user.manage_people", methods=POST)
def person_reactivate(request, pk):
    return _person_action(request, pk, lambda person: (
        services.person_set_active(actor=request.user, person=person, active=True),
        f"{person} is active again.")[1])


@view_of(User, "portal.user.manage_people", methods=POST)
def person_role(request, pk):
    def act(person):
        services.person_role_set(actor=request.user, person=person, new_role=request.POST.get("role", ""))
        return f"{person} is now {person.get_role_display()}."

    return _person_action(request, pk, act)


@view_of(User, "portal.user.manage_people", methods=POST)
def person_invite_resend(request, pk):
    return _person_action(request, pk, lambda person: (
        services.person_invite_resend(actor=request.user, person=person),
        f"The invitation was sent to {person.email} again.")[1])


@view_of(User, "portal.user.manage_people", methods=POST)
def person_mfa_reset(request, pk):
    return _person_action(request, pk, lambda person: (
        services.person_mfa_reset(actor=request.user, person=person),
        f"{person}'s multi-factor sign-in is reset: they set it up again at their next sign-in.")[1])


def invite_accept(request, uidb64, token):
    """The link of an invitation (no sign-in: the link is the key). It works while the person has
    chosen no password, is active and the link is younger than PORTAL_INVITE_HOURS."""
    from django.contrib.auth.forms import SetPasswordForm

    person = services.invite_person(uidb64, token)
    if person is None:
        # 403: the link grants nothing (used, too old, tampered, or the person is deactivated)
        return render(request, "registration/invite_accept.html", {"invalid": True}, status=403)
    form = SetPasswordForm(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.invite_password_set(person=person, password=form.cleaned_data["new_password1"])
        messages.success(request, "Your password is set: sign in with it.")
        return redirect("login")
    response = render(request, "registration/invite_accept.html", {"form": form, "person": person})
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


# --- sign-ins ---------------------------------------------------------------------------------


@view_of(None, "portal.signin.view_all", methods=GET)
def sign_in_log(request):
    """Every sign-in and failure, newest first, filterable by person (DCC administrators)."""
    from django.core.paginator import Paginator

    from portal.choices import SignInOutcome
    from portal.selectors import sign_ins

    person = request.GET.get("person", "").strip()[:150]
    outcome = request.GET.get("outcome", "")
    if outcome not in SignInOutcome.values:
        outcome = ""
    page = Paginator(sign_ins(request.user, person=person, outcome=outcome), 50).get_page(request.GET.get("page"))
    return render(request, "portal/sign_ins.html", {"page": page, "person": person, "outcome": outcome,
                                                    "outcomes": SignInOutcome.choices})


class LoginView(auth_views.LoginView):
    """Django's login page. On a developer's machine (DEBUG on, as `make run` sets) it also lists
    the demo logins that load_demo made, so a newcomer can sign in at once; with DEBUG off (any
    real deployment) never: the demo people share a published password."""

    def get_context_data(self, **kwargs):
        from portal.demo import DEMO_PASSWORD, demo_logins

        context = super().get_context_data(**kwargs)
        logins = []
        if settings.DEBUG:
            logins = demo_logins()
            present = set(User.objects.filter(username__in=[login[0] for login in logins])
                          .values_list("username", flat=True))
            # The superuser's own password (random, in var/) stays in the terminal that printed it.
            logins = [(username, password if password == DEMO_PASSWORD else "", role)
                      for username, password, role in logins if username in present]
        context["demo_logins"] = logins
        return context
