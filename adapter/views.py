"""Pages of the adapter: requests (submit, list, detail with timeline, cancel), batches, alerts,
anomaly thresholds, DCC's approval queue (four eyes, loosened thresholds), and the device page's
fragment of recent requests."""
import base64

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from adapter import schema, selectors, services, signing
from adapter.catalogue import ROLE_NAMES
from adapter.choices import (
    ACCEPTED_ROW_CODES,
    CANCELLABLE,
    FINISHED_BATCH_STATES,
    LIVE_BATCH_STATES,
    TERMINAL,
    BatchState,
    RequestState,
    RolloutState,
    ThresholdChangeState,
    colour,
)
from adapter.filtersets import AlertFilterSet, BatchFilterSet, RequestFilterSet
from adapter.forms import BatchUploadForm, CertificateUploadForm, SrvChoiceForm, SubmitForm, ThresholdForm
from adapter.models import (
    Alert,
    AnomalyThreshold,
    Batch,
    Certificate,
    Rollout,
    ServiceRequest,
    ServiceRequestVariant,
    ThresholdChange,
    ThresholdFloor,
)
from adapter.tables import AlertTable, BatchTable, RequestTable
from inventory.models import Device
from portal.access import may
from portal.dbrouter import replica_reads
from portal.errors import error_text
from portal.generic import POST, ObjectListView, view_of
from portal.lists.tables import bulk_ids, selected
from portal.redirects import safe_next
from portal.scoping import CHANGE, get_scoped_or_404, scope
from portal.tabular import export_response


class RequestList(ObjectListView):
    """Service requests, newest first, in keyset pages (``?before=<id>&size=``): no COUNT(*)."""

    model = ServiceRequest
    capability = "adapter.servicerequest.view_list"
    filterset_class = RequestFilterSet
    filterset_takes_request = False
    template_name = "adapter/request_list.html"
    pagination = "keyset"
    table_class = RequestTable
    count_estimated = True
    export_name = "service-requests"
    next_label = "Older requests"
    bulk_template = "adapter/partials/request_bulk.html"
    bulk_capability = "adapter.servicerequest.change"

    def get_queryset(self):
        return selectors.requests_visible(self.request.user)

    def bulk_context(self):
        return {"action": reverse("adapter:request_bulk_cancel")}

    def extra_context(self, filterset):
        return {"colour": colour, "can_submit": self.may("adapter.servicerequest.add")}


request_list = RequestList.as_view()


@view_of(ServiceRequest, "adapter.servicerequest.change", methods=POST)
def request_bulk_cancel(request):
    """Cancel the requests ticked on the list: each must be one the person may change (else 404,
    nothing cancelled); those past cancelling are skipped and counted."""
    back = safe_next(request, reverse("adapter:request_list"))
    try:
        ids = bulk_ids(request.POST)
    except ValidationError as exc:
        messages.error(request, f"Cancel: {error_text(exc)}")
        return redirect(back)
    chosen = selected(request.user, ServiceRequest.objects.all(), ids)
    cancelled, skipped = services.request_bulk_cancel(requests=chosen, actor=request.user)
    note = f" {skipped} skipped (no longer cancellable)." if skipped else ""
    messages.success(request, f"{cancelled} request{'s' if cancelled != 1 else ''} cancelled.{note}")
    return redirect(back)


# States in which the request waits for a person (a signature, a second DCC person, a decision on
# the quarantine, a signed document): its page asks less often than while the network answers.
_WAITING_FOR_A_PERSON = (RequestState.AWAITING_SIGNATURE, RequestState.AWAITING_APPROVAL,
                         RequestState.QUARANTINED, RequestState.AWAITING_DOCUMENT)


def _request_context(request, pk):
    obj = get_scoped_or_404(request.user, ServiceRequest.objects.for_list(), pk=pk)
    segments, total = selectors.timeline(obj)
    poll_every = None if obj.state in TERMINAL else "10s" if obj.state in _WAITING_FOR_A_PERSON else "2s"
    return {
        "obj": obj, "segments": segments, "total": total, "state_colour": colour(obj.state),
        "params": schema.labelled(obj.srv.param_schema, obj.params), "poll_every": poll_every,
        "can_cancel": obj.state in CANCELLABLE, "attempts": obj.send_attempts.all(),
        "can_release": may(request.user, "adapter.servicerequest.release") and obj.state == RequestState.QUARANTINED,
        "can_sign": obj.state == RequestState.AWAITING_SIGNATURE and may(request.user, "adapter.servicerequest.sign",
                                                                         obj),
        "precommand_b64": base64.b64encode(signing.precommand_bytes(obj.precommand)).decode("ascii"),
        "sign_by": services.signature_deadline(obj), "algorithm": signing.ALGORITHM,
        # Four eyes: the buttons are offered to a second DCC person only (the service refuses the requester anyway).
        "can_approve": (obj.state == RequestState.AWAITING_APPROVAL and obj.user_id != request.user.pk
                        and may(request.user, "adapter.servicerequest.approve")),
    }


@view_of(ServiceRequest, "adapter.servicerequest.view")
def request_detail(request, pk):
    return render(request, "adapter/request_detail.html", _request_context(request, pk))


@view_of(ServiceRequest, "adapter.servicerequest.view")
def request_live(request, pk):
    """htmx fragment the request page polls while the request is in flight: its state, details
    and actions, with the timeline and send attempts out of band."""
    return render(request, "adapter/partials/request_poll.html", _request_context(request, pk))


@view_of(ServiceRequest, "adapter.servicerequest.submit")
def request_submit(request):
    """The catalogue's submit page: pick an SRV (a grouped select, or the searchable list with
    script), then its form, generated from the SRV's schema. The checks are answered next to the
    field at fault, keeping what was typed; only a request that passes them is stored."""
    groups = selectors.srv_groups(request.user)
    device_id = request.GET.get("device_id", "")[:40]
    chooser = SrvChoiceForm(request.GET if "srv" in request.GET else None, groups=groups,
                            initial={"device_id": device_id})
    srv = chooser.cleaned_data["srv"] if chooser.is_bound and chooser.is_valid() else None
    form = SubmitForm(request.POST or None, srv=srv, initial={"device_id": device_id}) if srv else None
    if form is not None and request.method == "POST" and form.is_valid():
        fields = {"user": request.user, "srv": srv, "device_id": form.cleaned_data["device_id"],
                  "params": form.params(), "execute_at": form.cleaned_data.get("execute_at")}
        try:
            check = services.request_check(**fields)
            obj = services.request_submit(**fields) if check.ok else None
        except services.SubmitRefused as exc:
            form.add_error(None, str(exc))
        else:
            if obj is None:
                form.add_error(_field_of(form, check.field), f"{check.code}: {check.message}")
            else:
                if obj.state == RequestState.REJECTED:  # the device changed between the check and the store
                    messages.error(request, f"{obj.outcome}: {obj.message}")
                else:
                    messages.success(request, f"{obj.request_id}: {obj.outcome} acknowledged"
                                     + (" but quarantined" if obj.state == RequestState.QUARANTINED else ""))
                return redirect(obj)
    return render(request, "adapter/request_submit.html", {
        "chooser": chooser, "form": form, "srv": srv, "groups": groups, "device_id": device_id,
        "srv_roles": ", ".join(f"{r} ({ROLE_NAMES.get(r, r)})" for r in srv.roles) if srv else ""})


def _field_of(form, name):
    """The form field a check's ``field`` names (a parameter's is ``param_<name>``); None (the
    whole form) when the form has no such field."""
    for candidate in (name, f"param_{name}"):
        if name and candidate in form.fields:
            return candidate
    return None


@view_of(ServiceRequest, "adapter.servicerequest.submit")
def device_autocomplete(request):
    """htmx fragment for the submit form's device field: the options of its datalist, at most 20
    devices of the person's organisation whose id starts with what was typed and that the SRV fits."""
    srv = ServiceRequestVariant.objects.filter(code=request.GET.get("srv", "")[:12]).first()
    typed = request.GET.get("device_id", "")[:64]
    devices = selectors.devices_to_command(request.user, srv, typed)
    return render(request, "adapter/partials/device_options.html", {"devices": devices})


def _post_action(request, pk, action, model=ServiceRequest):
    obj = get_scoped_or_404(request.user, model.objects.all(), CHANGE, pk=pk)
    try:
        action(obj)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except services.Conflict as exc:
        messages.error(request, exc.message)
    return redirect(reverse("adapter:approvals") if _safe_next(request) else obj)


# How a decision names its object: the service's keyword for it, and its name in the flash message.
_SUBJECTS = {ServiceRequest: ("request", lambda obj: obj.request_id),
             Batch: ("batch", lambda obj: f"Batch {obj.pk}")}


def _decide(request, pk, decide, done=None, model=ServiceRequest):
    """A person's decision on a request or batch (``decide(<keyword>=obj, actor=...)``), flashed as
    "<its name> <done>" when ``done`` says what became of it."""
    keyword, name = _SUBJECTS[model]

    def act(obj):
        decide(**{keyword: obj}, actor=request.user)
        if done:
            messages.success(request, f"{name(obj)} {done}")

    return _post_action(request, pk, act, model)


def _safe_next(request):
    # Only the approval queue sends a decision back to itself; nothing else is followed.
    return request.POST.get("next") == reverse("adapter:approvals")


@view_of(ServiceRequest, "adapter.servicerequest.change", methods=POST)
def request_cancel(request, pk):
    return _decide(request, pk, services.request_cancel, "cancelled.")


@view_of(ServiceRequest, "adapter.servicerequest.submit", methods=POST)
def request_sign(request, pk):
    """The signature the page made in the browser (static/js/sign-precommand.js) or pasted."""
    def sign(obj):
        services.request_sign(request=obj, signature=request.POST.get("signature", ""), actor=request.user)
        messages.success(request, f"{obj.request_id}: signature verified; the request is on its way.")

    return _post_action(request, pk, sign)


@view_of(Certificate, "adapter.certificate.view_list")
def certificate_list(request):
    """An organisation's command-signing certificates with the upload form; for DCC
    administrators, the queue of certificates awaiting approval first."""
    form = CertificateUploadForm(request.POST or None, request.FILES or None)
    may_upload = may(request.user, "adapter.certificate.upload")
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied("You may not upload certificates.")
        if form.is_valid():
            try:
                certificate = services.certificate_upload(organisation=request.user.organisation,
                                                          pem=form.pem(), actor=request.user)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("certificate", message)
            else:
                messages.success(request, f"Certificate {certificate.serial} uploaded; DCC will approve it.")
                return redirect("adapter:certificate_list")
    certificates = scope(request.user, Certificate.objects.select_related("organisation", "uploaded_by",
                                                                          "approved_by"))
    may_approve = may(request.user, "adapter.certificate.approve")
    return render(request, "adapter/certificate_list.html", {
        "certificates": certificates.order_by("organisation__code", "-created_at"),
        "pending": certificates.filter(state="pending").order_by("created_at") if may_approve else [],
        "form": form, "may_upload": may_upload, "may_approve": may_approve,
    })


def _certificate_action(request, pk, decide, done):
    certificate = get_scoped_or_404(request.user, Certificate.objects.all(), CHANGE, pk=pk)
    try:
        decide(certificate=certificate, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"Certificate {certificate.serial} {done}.")
    return redirect("adapter:certificate_list")


@view_of(Certificate, "adapter.certificate.approve", methods=POST)
def certificate_approve(request, pk):
    return _certificate_action(request, pk, services.certificate_approve, "approved")


@view_of(Certificate, "adapter.certificate.view_list", methods=POST)
def certificate_revoke(request, pk):
    return _certificate_action(request, pk, services.certificate_revoke, "revoked")


@view_of(ServiceRequest, "adapter.servicerequest.release", methods=POST)
def request_release(request, pk):
    return _decide(request, pk, services.request_release)


@view_of(ServiceRequest, "adapter.servicerequest.release", methods=POST)
def request_reject(request, pk):
    return _decide(request, pk, services.request_reject)


@view_of(ServiceRequest, "adapter.servicerequest.approve", methods=POST)
def request_approve(request, pk):
    return _decide(request, pk, services.request_approve, "approved.")


@view_of(ServiceRequest, "adapter.servicerequest.approve", methods=POST)
def request_decline(request, pk):
    return _decide(request, pk, services.request_decline, "declined: it will not be sent.")


@view_of(Device, "inventory.device.view")
def device_requests(request, device_id):
    """htmx fragment for the inventory device page: the device's recent requests the user may see."""
    from portal.ids import is_eui64, normalise_eui64

    if not is_eui64(device_id):
        raise Http404("No such device")
    device = get_scoped_or_404(request.user, Device, device_id=normalise_eui64(device_id))
    rows = selectors.device_recent_requests(request.user, device)
    # "Send a service request" for those who may send to this device (its supplier's staff, DCC).
    can_send = may(request.user, "adapter.servicerequest.submit") and (
        request.user.organisation.is_dcc or device.supplier_id == request.user.organisation_id)
    return render(request, "adapter/partials/device_requests.html", {"rows": rows, "device": device,
                                                                     "colour": colour, "can_send": can_send})


# --- Batches -------------------------------------------------------------------------------------

class BatchList(ObjectListView):
    """The batches one may see, newest first, with the upload form above them (a POST)."""

    model = Batch
    capability = "adapter.batch.view_list"
    filterset_class = BatchFilterSet
    filterset_takes_request = False
    template_name = "adapter/batch_list.html"
    table_class = BatchTable
    export_name = "batches"
    http_method_names = ["get", "post"]
    form = None

    def get_queryset(self):
        return selectors.batches_visible(self.request.user)

    def post(self, request):
        self.check()
        if not may(request.user, "adapter.servicerequest.submit"):
            raise PermissionDenied("Your role cannot send service requests.")
        self.form = form = BatchUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > settings.UPLOAD_MAX_BYTES:
                form.add_error("file", f"The file is {upload.size:,} bytes; the largest accepted is "
                               f"{settings.UPLOAD_MAX_BYTES:,} bytes.")
            else:
                try:
                    batch = services.batch_create(user=request.user, data=upload.read(), filename=upload.name,
                                                  name=form.cleaned_data["name"])
                except ValidationError as exc:
                    form.add_error("file", "; ".join(exc.messages))
                else:
                    messages.success(request, f"Batch {batch.pk} uploaded: its rows are being checked.")
                    return redirect(batch)
        return self.get(request)

    def extra_context(self, filterset):
        return {"form": self.form or BatchUploadForm(), "colour": colour,
                "can_upload": self.may("adapter.batch.add"), "template_srvs": _template_srvs(self.request.user)}


batch_list = BatchList.as_view()


def _template_srvs(user):
    """The SRVs whose batch template the upload card offers: those the person's organisation may send."""
    return [entry for _service, entries in selectors.srv_groups(user) for entry in entries if entry["may_send"]]


def _batch_context(request, pk):
    batch = get_scoped_or_404(request.user, Batch.objects.select_related("organisation", "user"), pk=pk)
    done, total, counts = services.batch_progress(batch)
    percent = int(100 * done / total) if total else (100 if batch.state in FINISHED_BATCH_STATES else 0)
    checked = int(100 * batch.checked_rows / batch.total_rows) if batch.total_rows else 0
    live = batch.state in LIVE_BATCH_STATES
    can_approve = (batch.state == BatchState.AWAITING_APPROVAL and batch.user_id != request.user.pk
                   and may(request.user, "adapter.batch.approve"))
    # Something is left to cancel while rows are still to be checked, or a request is not yet sent.
    cancellable = batch.state in (BatchState.UPLOADED, BatchState.VALIDATING, BatchState.AWAITING_APPROVAL) or (
        batch.state == BatchState.RUNNING and any(counts.get(state) for state in CANCELLABLE))
    rejected_only = bool(request.GET.get("rejected"))
    rows = batch.rows.select_related("request").order_by("row")
    if rejected_only:
        rows = rows.exclude(code__in=ACCEPTED_ROW_CODES)
    # Polled while at work (every 2 s) or waiting for a second DCC person (every 10 s); not once ended.
    poll_every = "2s" if live else "10s" if batch.state == BatchState.AWAITING_APPROVAL else None
    return {"batch": batch, "can_approve": can_approve, "done": done, "total": total,
            "counts": sorted(counts.items()), "percent": percent, "rows": rows[:200], "rejected_only": rejected_only,
            "checked_percent": checked, "live": live, "poll_every": poll_every, "colour": colour, "terminal": TERMINAL,
            "can_cancel": cancellable and may(request.user, "adapter.batch.change", batch)}


@view_of(Batch, "adapter.batch.view")
def batch_detail(request, pk):
    return render(request, "adapter/batch_detail.html", _batch_context(request, pk))


@view_of(Batch, "adapter.batch.view")
def batch_progress(request, pk):
    """htmx fragment the batch page polls until the batch ends: progress, counts, actions and rows."""
    return render(request, "adapter/partials/batch_live.html", _batch_context(request, pk))


@view_of(Batch, "adapter.batch.upload")
def batch_template(request):
    """An SRV's batch template: a CSV whose header row is the columns of its schema
    (services.batch_columns), ready for one row per device."""
    srv = ServiceRequestVariant.objects.filter(code=request.GET.get("srv", "")[:12]).first()
    if srv is None:
        raise Http404("No such service request variant")
    return export_response(f"batch-template-{srv.code}", services.batch_columns(srv), [], fmt="csv")


@view_of(Batch, "adapter.batch.view")
@replica_reads
def batch_results(request, pk):
    batch = get_scoped_or_404(request.user, Batch, pk=pk)
    rows = batch.rows.select_related("request").order_by("row").iterator(chunk_size=5000)
    data = ({"row": r.row, "srv": r.srv_code, "device_id": r.device_ref, "code": r.code, "message": r.message,
             "request_id": r.request.request_id if r.request else "", "state": r.request.state if r.request else
             RequestState.REJECTED.value, "outcome": r.request.outcome if r.request else r.code} for r in rows)
    return export_response(f"batch-{batch.pk}-results",
                           ["row", "srv", "device_id", "code", "message", "request_id", "state", "outcome"], data,
                           fmt=request.GET.get("format", "csv"))


@view_of(Batch, "adapter.batch.change", methods=POST)
def batch_cancel(request, pk):
    batch = get_scoped_or_404(request.user, Batch, CHANGE, pk=pk)
    services.batch_cancel(batch=batch, actor=request.user)
    messages.success(request, f"Batch {batch.pk} cancelled: requests not yet sent were cancelled.")
    return redirect(batch)


@view_of(Batch, "adapter.batch.approve", methods=POST)
def batch_approve(request, pk):
    return _decide(request, pk, services.batch_approve, "approved: it runs now.", Batch)


@view_of(Batch, "adapter.batch.approve", methods=POST)
def batch_decline(request, pk):
    return _decide(request, pk, services.batch_decline, "declined: none of its requests is sent.", Batch)


# --- Approval queue (DCC) ------------------------------------------------------------------------

@view_of(ServiceRequest, "adapter.servicerequest.approve")
def approvals(request):
    """What awaits a second DCC person: DCC's critical requests, DCC's large batches, and service
    users' changes loosening a threshold past DCC's floor."""
    user = request.user
    waiting = scope(user, ServiceRequest.objects.for_list().select_related("user").filter(
        state=RequestState.AWAITING_APPROVAL, batch__isnull=True)).order_by("id")[:200]
    batches = scope(user, Batch.objects.select_related("organisation", "user").filter(
        state=BatchState.AWAITING_APPROVAL)).order_by("id")[:200]
    changes = scope(user, ThresholdChange.objects.select_related("organisation", "srv", "requested_by").filter(
        state=ThresholdChangeState.PENDING)).order_by("id")[:200]
    rollouts = scope(user, Rollout.objects.select_related("organisation", "srv", "started_by").filter(
        state=RolloutState.AWAITING_APPROVAL, needs_approval=True, approved_at__isnull=True)).order_by("id")[:200]
    return render(request, "adapter/approvals.html", {
        "requests": waiting, "batches": batches, "changes": changes, "colour": colour, "rollouts": rollouts,
        "may_decide_changes": may(user, "adapter.thresholdchange.decide")})


def _change_decision(request, pk, approve):
    change = get_scoped_or_404(request.user, ThresholdChange, CHANGE, pk=pk)
    try:
        services.threshold_change_decide(change=change, actor=request.user, approve=approve)
    except services.Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Threshold change {'approved and applied' if approve else 'declined'}.")
    return redirect("adapter:approvals")


@view_of(ThresholdChange, "adapter.thresholdchange.decide", methods=POST)
def threshold_change_approve(request, pk):
    return _change_decision(request, pk, True)


@view_of(ThresholdChange, "adapter.thresholdchange.decide", methods=POST)
def threshold_change_decline(request, pk):
    return _change_decision(request, pk, False)


# --- Alerts and thresholds -----------------------------------------------------------------------

class AlertList(ObjectListView):
    model = Alert
    capability = "adapter.alert.view_list"
    filterset_class = AlertFilterSet
    filterset_takes_request = False
    template_name = "adapter/alert_list.html"
    pagination = "keyset"
    table_class = AlertTable
    count_estimated = True
    export_name = "alerts"
    next_label = "Older alerts"

    def get_queryset(self):
        return selectors.alerts_visible(self.request.user)


alert_list = AlertList.as_view()


@view_of(AnomalyThreshold, "adapter.anomalythreshold.view_list")
def threshold_list(request):
    thresholds = scope(request.user, AnomalyThreshold.objects.select_related("organisation", "srv"))
    floors = scope(request.user, ThresholdFloor.objects.select_related("organisation", "srv"))
    pending = scope(request.user, ThresholdChange.objects.select_related("organisation", "srv").filter(
        state=ThresholdChangeState.PENDING))
    may_add = may(request.user, "adapter.anomalythreshold.set")
    form = ThresholdForm(request.POST or None)
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied("Only staff of an organisation set its own thresholds.")
        if form.is_valid():
            try:
                saved = services.threshold_save(organisation=request.user.organisation, srv=form.cleaned_data["srv"],
                                                period=form.cleaned_data["period"], limit=form.cleaned_data["limit"],
                                                note=form.cleaned_data["note"], actor=request.user)
            except ValidationError as exc:
                form.add_error(None, "; ".join(exc.messages))
            else:
                messages.success(request, _threshold_message(saved, "Threshold saved."))
                return redirect("adapter:threshold_list")
    return render(request, "adapter/threshold_list.html", {"thresholds": thresholds, "form": form,
                                                           "may_add": may_add, "floors": floors, "pending": pending})


def _threshold_message(result, done):
    if isinstance(result, ThresholdChange):
        return "That would loosen the threshold past DCC's floor: the change awaits DCC's approval."
    return done


@view_of(AnomalyThreshold, "adapter.anomalythreshold.change", methods=POST)
def threshold_delete(request, pk):
    threshold = get_scoped_or_404(request.user, AnomalyThreshold, CHANGE, pk=pk)
    pending = services.threshold_delete(threshold=threshold, actor=request.user)
    messages.success(request, _threshold_message(pending, "Threshold removed."))
    return redirect("adapter:threshold_list")


@view_of(ServiceRequestVariant, "adapter.servicerequestvariant.view")
def catalogue(request):
    srvs = scope(request.user, ServiceRequestVariant)
    return render(request, "adapter/catalogue.html", {"srvs": srvs, "now": timezone.now()})
