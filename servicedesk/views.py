"""Pages of the Incident Management Log: incidents (list, detail, raising, every step of their
life), problems, and the desk's tables (target times, policy). Every page declares its model and
capability (portal.generic); every object comes through scope, so another organisation's incident
is a 404; every write is a call to servicedesk.services, whose ValidationError lands on the form
field it names. Times are shown in UK time."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from portal.access import may
from portal.generic import ObjectDetailView, ObjectEditView, ObjectListView, view_of
from portal.imports import import_page
from portal.scoping import CHANGE, get_scoped_or_404, scope
from portal.selectors import audit_entries
from servicedesk import documents, forms, importers, selectors, services
from servicedesk.choices import OPEN_STATUSES, IncidentStatus, UpdateKind, Visibility, colour
from servicedesk.filtersets import IncidentFilterSet, ProblemFilterSet
from servicedesk.models import (
    ClockPause,
    DeskPolicy,
    Incident,
    IncidentAttachment,
    MajorIncidentReport,
    Problem,
    TargetTime,
)

LONDON = selectors.LONDON


def incident_url(incident: Incident) -> str:
    return reverse("servicedesk:incident_detail", args=[incident.reference])


def problem_url(problem: Problem) -> str:
    return reverse("servicedesk:problem_detail", args=[problem.reference])


# --- the clock as a person reads it --------------------------------------------------------

def duration_text(delta: dt.timedelta) -> str:
    """"2d 3h", "4h 05m", "12m": clock time (working time for a working-hours target)."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


@dataclass(frozen=True)
class ClockCell:
    """One clock of one incident as shown in a list or on its page."""

    due_at: dt.datetime | None
    paused: bool
    stopped: bool
    met: bool | None
    breached: bool
    left: str  # "3h 05m left", "1h 10m over", "paused", "met", "missed"
    working_hours: bool

    @classmethod
    def of(cls, state) -> ClockCell:
        if state.stopped_at is not None:
            left = "met" if state.met else f"missed by {duration_text(state.left)}"
        elif state.paused:
            left = f"paused ({duration_text(state.left)} left)" if not state.breached else "paused (breached)"
        elif state.breached:
            left = f"{duration_text(state.left)} over"
        else:
            left = f"{duration_text(state.left)} left"
        return cls(due_at=state.due_at.astimezone(LONDON) if state.due_at else None, paused=state.paused,
                   stopped=state.stopped_at is not None, met=state.met, breached=state.breached, left=left,
                   working_hours=state.target.working_hours)


@dataclass(frozen=True)
class IncidentRow:
    """An incident where it is listed: the row and its two clocks (servicedesk.selectors.with_clocks)."""

    incident: Incident
    url: str
    status_colour: str
    response: ClockCell
    resolution: ClockCell
    breached: bool


def incident_rows(incidents, *, now: dt.datetime | None = None) -> list[IncidentRow]:
    """Rows with their clocks: the targets read once, the pauses prefetched (with_clocks)."""
    return [IncidentRow(incident=incident, url=incident_url(incident), status_colour=colour(incident.status),
                        response=ClockCell.of(state.response), resolution=ClockCell.of(state.resolution),
                        breached=state.breached)
            for incident, state in selectors.with_clocks(incidents, now=now)]


def _with_pauses(queryset):
    return queryset.prefetch_related(Prefetch("pauses", queryset=ClockPause.objects.order_by("started_at")))


# --- incidents: list, detail, downloads ------------------------------------------------------

class IncidentList(ObjectListView):
    """The Incident Management Log as the person may see it, newest first, keyset-paged."""

    model = Incident
    capability = "servicedesk.incident.view"
    filterset_class = IncidentFilterSet
    pagination = "keyset"
    template_name = "servicedesk/incident_list.html"

    def get_queryset(self):
        return _with_pauses(selectors.incidents_visible(self.request.user))

    def paginate(self, queryset):
        context = super().paginate(queryset)
        context["rows"] = incident_rows(context["rows"])
        context["paged"] = bool(self.request.GET.get(self.keyset_param))
        context["first_url"] = "?" + self.querystring_without(self.keyset_param)
        return context

    def extra_context(self, filterset):
        return {"can_raise": self.may("servicedesk.incident.add"),
                "can_manage": self.may("servicedesk.incident.manage")}


incident_list = IncidentList.as_view()


def _scoped_incident(request, reference, action="view"):
    return get_scoped_or_404(request.user, Incident.objects.select_related(
        "organisation", "raised_by", "logged_by", "resolver", "assignee", "category_set_by", "problem", "repeat_of"),
        action, reference=reference)


_STATUS_LABELS = dict(IncidentStatus.choices)


def _status_label(update):
    """The status a status change moved to, as people read it ("Awaiting user")."""
    if update.kind != UpdateKind.STATUS_CHANGE or not isinstance(update.data, dict):
        return ""
    to = update.data.get("to", "")
    return _STATUS_LABELS.get(to, to) if isinstance(to, str) else ""


@view_of(Incident, "servicedesk.incident.view")
def incident_detail(request, reference):
    incident = _scoped_incident(request, reference)
    user = request.user
    state = selectors.incident_clock(incident)
    can_change = may(user, "servicedesk.incident.change", incident)
    can_manage = can_change and may(user, "servicedesk.incident.manage")
    visible = scope(user, Incident.objects.all())
    # An earlier incident or a repeat of another organisation stays unseen (scope), as do problems
    # (DCC's alone) for anyone else.
    repeat_of = visible.filter(pk=incident.repeat_of_id).first() if incident.repeat_of_id else None
    problem = scope(user, Problem.objects.filter(pk=incident.problem_id)).first() if incident.problem_id else None
    is_open = incident.status in OPEN_STATUSES
    policy = DeskPolicy.current()
    reopen_until = None
    if incident.status == IncidentStatus.RESOLVED and incident.resolved_at:
        reopen_until = services.auto_close_at(incident.resolved_at, policy.auto_close_working_days).astimezone(LONDON)
    context = {
        "incident": incident, "status_colour": colour(incident.status),
        "response": ClockCell.of(state.response), "resolution": ClockCell.of(state.resolution),
        "breached": state.breached, "pauses": list(incident.pauses.all()),
        "timeline": [(u, colour(u.visibility), _status_label(u)) for u in selectors.timeline(user, incident)],
        "attachments": list(scope(user, IncidentAttachment.objects.filter(incident=incident))),
        "references": list(incident.references.all()),
        "affected_items": list(incident.affected_items.order_by("name")),
        "interested_parties": list(incident.interested_parties.order_by("code"))
        if may(user, "servicedesk.incident.manage") else [],
        "follows": not can_change and user.organisation_id is not None
        and incident.interested_parties.filter(pk=user.organisation_id).exists(),
        "repeat_of": repeat_of, "repeats": list(visible.filter(repeat_of=incident).order_by("number")),
        "problem": problem,
        "major_reports": list(scope(user, MajorIncidentReport.objects.filter(incident=incident)).order_by("-version")),
        "can_change": can_change, "can_manage": can_manage, "is_open": is_open,
        "can_write_report": can_manage and incident.is_major and may(user, "servicedesk.majorincidentreport.add"),
        "reopen_until": reopen_until, "raised": incident.raised_at.astimezone(LONDON),
    }
    if can_change:
        context["update_form"] = forms.UpdateForm(user=user)
        context["attach_form"] = forms.AttachForm(user=user)
    if can_manage:
        context["assign_form"] = forms.AssignForm(user=user, initial={"resolver": incident.resolver_id,
                                                                      "assignee": incident.assignee_id})
        context["status_form"] = forms.StatusForm()
        context["category_form"] = forms.CategoryForm(initial={"category": incident.category})
    return render(request, "servicedesk/incident_detail.html", context)


@view_of(IncidentAttachment, "servicedesk.incidentattachment.view")
def incident_attachment(request, pk):
    """The file, always as a download (never shown inline), with the type found in its content."""
    attachment = get_scoped_or_404(request.user, IncidentAttachment.objects.all(), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    return FileResponse(handle, as_attachment=True, filename=attachment.filename,
                        content_type=attachment.content_type)


@view_of(MajorIncidentReport, "servicedesk.majorincidentreport.view")
def major_report_pdf(request, pk):
    report = get_scoped_or_404(request.user, MajorIncidentReport.objects.select_related("incident", "author"), pk=pk)
    response = HttpResponse(documents.major_report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.major_report_filename(report)}"'
    return response


@view_of(Incident, "servicedesk.incident.add")
def incident_import(request):
    """Upload -> preview every row -> commit the same file (portal.imports.import_page), each row
    through services.incident_raise (servicedesk.importers)."""
    return import_page(request, run=importers.run, form_class=forms.ImportForm,
                       template="servicedesk/incident_import.html", key="incidents",
                       success_url=reverse("servicedesk:incident_list"),
                       done=lambda preview: f"{len(preview.results)} incident(s) raised.",
                       context={"required": importers.REQUIRED, "optional": importers.OPTIONAL,
                                "can_manage": may(request.user, "servicedesk.incident.manage")})


# --- incidents: raising and every step of their life ----------------------------------------

class DeskEditView(ObjectEditView):
    """The desk's forms: a refused save shows the form again with 400, beside the field named."""

    invalid_status = 400
    title = ""

    def get_form(self, obj):
        return self.form_class(**self.form_kwargs(obj), user=self.request.user)

    def form_kwargs(self, obj):
        kwargs = super().form_kwargs(obj)
        kwargs.pop("instance", None)
        return kwargs


class IncidentRaise(DeskEditView):
    model = Incident
    capability = "servicedesk.incident.add"
    form_class = forms.RaiseForm
    template_name = "servicedesk/incident_form.html"

    def save(self, form, obj):
        return services.incident_raise(actor=self.request.user, **form.arguments())

    def success_message(self, incident, form):
        return f"{incident.reference} raised: {incident.summary}"

    def success_url(self, incident, obj):
        return incident_url(incident)

    def context(self, form, obj):
        return {"form": form, "title": "Raise an incident", "cancel": reverse("servicedesk:incident_list")}


incident_raise = IncidentRaise.as_view()


class IncidentAction(DeskEditView):
    """One step of an incident's life on its own page (the incident's page posts its short forms
    here too): the incident is fetched for change through scope (another organisation's, or one
    the person only follows, is a 404), the capability asked (403), the service called."""

    model = Incident
    capability = "servicedesk.incident.change"
    queryset = Incident.objects.select_related("organisation", "resolver", "assignee")
    template_name = "servicedesk/incident_action.html"
    multipart = False
    field_map: dict[str, str] = {}
    done = "Saved."

    def form_kwargs(self, obj):
        kwargs = super().form_kwargs(obj)
        kwargs["initial"] = self.initial(obj)
        return kwargs

    def initial(self, incident):
        return {}

    def get_form(self, obj):
        form = super().get_form(obj)
        form.field_map = self.field_map
        return form

    def save(self, form, incident):
        self.act(form, incident, form.cleaned_data)
        return incident

    def act(self, form, incident, data):
        raise NotImplementedError

    def success_message(self, incident, form):
        return self.done

    def success_url(self, incident, obj):
        return incident_url(incident)

    def context(self, form, incident):
        return {"form": form, "incident": incident, "title": self.title, "multipart": self.multipart,
                "status_colour": colour(incident.status)}


class UpdateAdd(IncidentAction):
    form_class = forms.UpdateForm
    title = "Add an update"
    done = "Update added."

    def act(self, form, incident, data):
        services.incident_add_update(actor=self.request.user, incident=incident, text=data["text"],
                                     kind=data.get("kind") or UpdateKind.NOTE,
                                     visibility=Visibility.INTERNAL if data.get("internal") else Visibility.PARTIES)


class RequestInformation(IncidentAction):
    capability = "servicedesk.incident.manage"
    form_class = forms.TextForm
    title = "Ask the user for information"
    done = "Information requested: the clock is paused until the user answers."

    def get_form(self, obj):
        return forms.TextForm(**ObjectEditView.form_kwargs(self, obj))

    def act(self, form, incident, data):
        services.incident_request_information(actor=self.request.user, incident=incident, text=data["text"])


class Answer(IncidentAction):
    form_class = forms.TextForm
    title = "Answer DCC's request for information"
    done = "Answer sent: the clock runs again."

    def get_form(self, obj):
        return forms.TextForm(**ObjectEditView.form_kwargs(self, obj))

    def act(self, form, incident, data):
        services.incident_answer(actor=self.request.user, incident=incident, text=data["text"])


class Assign(IncidentAction):
    capability = "servicedesk.incident.manage"
    form_class = forms.AssignForm
    title = "Assign"
    done = "Assigned."

    def initial(self, incident):
        return {"resolver": incident.resolver_id, "assignee": incident.assignee_id}

    def act(self, form, incident, data):
        services.incident_assign(actor=self.request.user, incident=incident, resolver=data["resolver"],
                                 assignee=data["assignee"], note=data["note"])


class NoUserForm(IncidentAction):
    """Actions whose form needs no person to build its choices."""

    def get_form(self, obj):
        form = self.form_class(**ObjectEditView.form_kwargs(self, obj), initial=self.initial(obj))
        form.field_map = self.field_map
        return form


class SetStatus(NoUserForm):
    capability = "servicedesk.incident.manage"
    form_class = forms.StatusForm
    title = "Set the status"
    done = "Status changed."

    def act(self, form, incident, data):
        services.incident_set_status(actor=self.request.user, incident=incident, status=data["status"],
                                     note=data["note"])


class SetCategory(NoUserForm):
    capability = "servicedesk.incident.manage"
    form_class = forms.CategoryForm
    title = "Set the category"
    done = "Category set."

    def initial(self, incident):
        return {"category": incident.category}

    def act(self, form, incident, data):
        services.incident_set_category(actor=self.request.user, incident=incident, category=data["category"],
                                       reason=data["reason"])


class Resolve(NoUserForm):
    capability = "servicedesk.incident.manage"
    form_class = forms.ResolveForm
    title = "Resolve"
    done = "Resolved."

    def act(self, form, incident, data):
        services.incident_resolve(actor=self.request.user, incident=incident, resolution=data["resolution"])


class Close(NoUserForm):
    form_class = forms.CloseForm
    title = "Close"
    done = "Closed."

    def act(self, form, incident, data):
        services.incident_close(actor=self.request.user, incident=incident, note=data["note"])


class Reopen(NoUserForm):
    form_class = forms.ReopenForm
    title = "Re-open"
    done = "Re-opened: the clock runs on from where it stopped."

    def act(self, form, incident, data):
        services.incident_reopen(actor=self.request.user, incident=incident, reason=data["reason"])


class Attach(IncidentAction):
    form_class = forms.AttachForm
    title = "Attach a file"
    multipart = True
    field_map = {"content": "file", "filename": "file"}
    done = "File attached."

    def act(self, form, incident, data):
        upload = data["file"]
        services.incident_attach(actor=self.request.user, incident=incident, filename=upload.name,
                                 content=upload.read(),
                                 visibility=Visibility.INTERNAL if data.get("internal") else Visibility.PARTIES)


class LinkRepeat(IncidentAction):
    capability = "servicedesk.incident.manage"
    form_class = forms.RepeatForm
    title = "Link to an earlier incident"
    done = "Linked as a repeat."

    def initial(self, incident):
        return {"repeat_of": incident.repeat_of.reference if incident.repeat_of_id else ""}

    def act(self, form, incident, data):
        services.incident_link_repeat(actor=self.request.user, incident=incident, earlier=data["repeat_of"])


class LinkProblem(IncidentAction):
    capability = "servicedesk.incident.manage"
    form_class = forms.ProblemLinkForm
    title = "Group under a problem"
    done = "Problem link saved."

    def initial(self, incident):
        return {"problem": incident.problem_id}

    def act(self, form, incident, data):
        services.incident_link_problem(actor=self.request.user, incident=incident, problem=data["problem"])


class SetParties(IncidentAction):
    capability = "servicedesk.incident.manage"
    form_class = forms.PartiesForm
    title = "Interested parties"
    done = "Interested parties saved."
    field_map = {"interested_parties": "parties"}

    def initial(self, incident):
        return {"parties": list(incident.interested_parties.all())}

    def act(self, form, incident, data):
        services.incident_set_parties(actor=self.request.user, incident=incident, parties=data["parties"])


class FlagMajor(IncidentAction):
    capability = "servicedesk.incident.manage"
    form_class = forms.MajorForm
    title = "Flag as a major incident"
    done = "Flagged major: the service alert is published."
    field_map = {"is_major": "confirm"}

    def act(self, form, incident, data):
        alert = services.incident_flag_major(
            actor=self.request.user, incident=incident, alert_title=data["alert_title"],
            alert_description=data["alert_description"], components=list(data["components"]),
            expected_resolution_at=data["expected_resolution_at"])
        self.done = f"Flagged major: service alert {alert.reference} is published."


class WriteMajorReport(NoUserForm):
    capability = "servicedesk.majorincidentreport.add"
    form_class = forms.MajorReportForm
    title = "Write the major incident report"
    field_map = {"incident": "summary"}

    def initial(self, incident):
        last = incident.major_reports.order_by("-version").first()
        if last is None:
            return {}
        return {name: getattr(last, name) for name in ("summary", "timeline", "impact", "root_cause", "actions")}

    def act(self, form, incident, data):
        report = services.major_report_write(actor=self.request.user, incident=incident, **data)
        self.done = f"Version {report.version} of the major incident report saved."


incident_update = UpdateAdd.as_view()
incident_request_information = RequestInformation.as_view()
incident_answer = Answer.as_view()
incident_assign = Assign.as_view()
incident_status = SetStatus.as_view()
incident_category = SetCategory.as_view()
incident_resolve = Resolve.as_view()
incident_close = Close.as_view()
incident_reopen = Reopen.as_view()
incident_attach = Attach.as_view()
incident_repeat = LinkRepeat.as_view()
incident_problem = LinkProblem.as_view()
incident_parties = SetParties.as_view()
incident_major = FlagMajor.as_view()
incident_major_report = WriteMajorReport.as_view()


# --- problems --------------------------------------------------------------------------------

class ProblemList(ObjectListView):
    model = Problem
    capability = "servicedesk.problem.view"
    filterset_class = ProblemFilterSet
    filterset_takes_request = False
    pagination = "keyset"
    template_name = "servicedesk/problem_list.html"

    def paginate(self, queryset):
        context = super().paginate(queryset)
        context["paged"] = bool(self.request.GET.get(self.keyset_param))
        context["first_url"] = "?" + self.querystring_without(self.keyset_param)
        context["rows"] = [(p, colour(p.status)) for p in context["rows"]]
        return context

    def extra_context(self, filterset):
        return {"can_create": self.may("servicedesk.incident.manage")}


problem_list = ProblemList.as_view()


class ProblemDetail(ObjectDetailView):
    model = Problem
    capability = "servicedesk.problem.view"
    template_name = "servicedesk/problem_detail.html"
    context_object_name = "problem"

    def extra_context(self, problem):
        # with_clocks prefetches the pauses of a queryset itself
        incidents = (scope(self.request.user, Incident.objects.filter(problem=problem))
                     .select_related("organisation", "resolver", "assignee"))
        return {"rows": incident_rows(incidents), "status_colour": colour(problem.status),
                "can_change": self.may("servicedesk.incident.manage")}


problem_detail = ProblemDetail.as_view()


class ProblemCreate(DeskEditView):
    model = Problem
    capability = "servicedesk.incident.manage"
    form_class = forms.ProblemCreateForm
    template_name = "servicedesk/problem_form.html"

    def save(self, form, obj):
        data = form.cleaned_data
        return services.problem_create(actor=self.request.user, title=data["title"], description=data["description"],
                                       incidents=data["incidents"])

    def success_message(self, problem, form):
        return f"{problem.reference} opened."

    def success_url(self, problem, obj):
        return problem_url(problem)

    def context(self, form, obj):
        return {"form": form, "title": "Open a problem record", "cancel": reverse("servicedesk:problem_list")}


class ProblemUpdate(ObjectEditView):
    model = Problem
    capability = "servicedesk.incident.manage"
    form_class = forms.ProblemUpdateForm
    template_name = "servicedesk/problem_form.html"
    invalid_status = 400

    def get_form(self, problem):
        return forms.ProblemUpdateForm(self.request.POST or None, initial={
            "root_cause": problem.root_cause, "fix": problem.fix, "status": problem.status})

    def save(self, form, problem):
        return services.problem_update(actor=self.request.user, problem=problem, **form.cleaned_data)

    def success_message(self, problem, form):
        return f"{problem.reference} saved."

    def success_url(self, problem, obj):
        return problem_url(problem)

    def context(self, form, problem):
        return {"form": form, "problem": problem, "title": f"{problem.reference}: root cause and fix",
                "cancel": problem_url(problem)}


problem_create = ProblemCreate.as_view()
problem_update = ProblemUpdate.as_view()


# --- the desk's tables -----------------------------------------------------------------------

@view_of(TargetTime, "servicedesk.targettime.view")
def target_list(request):
    """The target times per category (shipped defaults until DCC sets them) and their history."""
    user = request.user
    history = audit_entries(user, model_label="servicedesk.targettime")[:100] if may(user, "portal.audit.view_all") \
        else []
    return render(request, "servicedesk/target_list.html", {
        "targets": [row for _category, row in sorted(selectors.targets().items())],
        "can_change": may(user, "servicedesk.targettime.change"), "history": history,
    })


class TargetEdit(ObjectEditView):
    """One category's targets. A category whose row is missing (a flushed database) is edited
    from its shipped default."""

    model = TargetTime
    capability = "servicedesk.targettime.change"
    form_class = forms.TargetTimeForm
    template_name = "servicedesk/target_form.html"
    invalid_status = 400

    def get_object(self):
        category = self.kwargs["category"]
        row = scope(self.request.user, TargetTime.objects.all(), CHANGE).filter(category=category).first()
        if row is None:
            default = selectors.targets().get(category)
            if default is None or default.pk is not None or not self.may():
                raise Http404("No such category")
            row = default
        return row

    def get_form(self, row):
        return forms.TargetTimeForm(self.request.POST or None, initial={
            "response_minutes": row.response_minutes, "resolution_minutes": row.resolution_minutes,
            "basis": row.basis, "note": row.note})

    def save(self, form, row):
        return services.target_time_set(actor=self.request.user, category=row.category, **form.cleaned_data)

    def success_message(self, row, form):
        return f"Category {row.category} targets saved; open incidents of the category follow."

    def success_url(self, row, obj):
        return reverse("servicedesk:target_list")

    def context(self, form, row):
        return {"form": form, "row": row, "title": f"Targets of category {row.category}",
                "cancel": reverse("servicedesk:target_list")}


target_edit = TargetEdit.as_view()


class PolicyEdit(ObjectEditView):
    """The desk policy (one row), for DCC administrators, with its history."""

    model = DeskPolicy
    capability = "servicedesk.deskpolicy.change"
    form_class = forms.PolicyForm
    template_name = "servicedesk/policy_form.html"
    invalid_status = 400

    def handle(self, obj):
        return super().handle(DeskPolicy.current())

    def get_form(self, policy):
        return forms.PolicyForm(self.request.POST or None, instance=DeskPolicy.current())

    def save(self, form, policy):
        return services.policy_set(actor=self.request.user, **{name: form.cleaned_data[name]
                                                                for name in forms.PolicyForm.Meta.fields})

    def success_message(self, policy, form):
        return "Desk policy saved."

    def success_url(self, policy, obj):
        return reverse("servicedesk:policy_edit")

    def context(self, form, policy):
        history = audit_entries(self.request.user, model_label="servicedesk.deskpolicy")[:50]
        return {"form": form, "policy": policy, "history": history}


policy_edit = PolicyEdit.as_view()
