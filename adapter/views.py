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

from adapter import selectors, services, signing
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
from adapter.filtersets import AlertFilterSet, RequestFilterSet
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
from inventory.models import Device
from portal.access import may
from portal.dbrouter import replica_reads
from portal.generic import POST, ObjectListView, view_of
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

    def get_queryset(self):
        return selectors.requests_visible(self.request.user)

    def extra_context(self, filterset):
        return {"colour": colour, "can_submit": self.may("adapter.servicerequest.add")}


request_list = RequestList.as_view()


@view_of(ServiceRequest, "adapter.servicerequest.view")
def request_detail(request, pk):
    obj = get_scoped_or_404(request.user, ServiceRequest.objects.for_list(), pk=pk)
    segments, total = selectors.timeline(obj)
    return render(request, "adapter/request_detail.html", {
        "obj": obj, "segments": segments, "total": total, "state_colour": colour(obj.state),
        "can_cancel": obj.state in CANCELLABLE, "attempts": obj.send_attempts.all(),
        "can_release": may(request.user, "adapter.servicerequest.release") and obj.state == RequestState.QUARANTINED,
        "can_sign": obj.state == RequestState.AWAITING_SIGNATURE and may(request.user, "adapter.servicerequest.sign",
                                                                         obj),
        "precommand_b64": base64.b64encode(signing.precommand_bytes(obj.precommand)).decode("ascii"),
        "sign_by": services.signature_deadline(obj), "algorithm": signing.ALGORITHM,
        # Four eyes: the buttons are offered to a second DCC person only (the service refuses the requester anyway).
        "can_approve": (obj.state == RequestState.AWAITING_APPROVAL and obj.user_id != request.user.pk
                        and may(request.user, "adapter.servicerequest.approve")),
    })


@view_of(ServiceRequest, "adapter.servicerequest.submit")
def request_submit(request):
    chooser = SrvChoiceForm(request.GET or None)
    srv = chooser.cleaned_data["srv"] if chooser.is_valid() else None
    form = SubmitForm(request.POST or None, srv=srv) if srv else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            obj = services.request_submit(
                user=request.user, srv=srv, device_id=form.cleaned_data["device_id"], params=form.params(),
                execute_at=form.cleaned_data.get("execute_at"))
        except services.SubmitRefused as exc:
            form.add_error(None, str(exc))
        else:
            if obj.state == RequestState.REJECTED:
                messages.error(request, f"{obj.outcome}: {obj.message}")
            else:
                messages.success(request, f"{obj.request_id}: {obj.outcome} acknowledged"
                                 + (" but quarantined" if obj.state == RequestState.QUARANTINED else ""))
            return redirect(obj)
    return render(request, "adapter/request_submit.html", {"chooser": chooser, "form": form, "srv": srv})


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
    return render(request, "adapter/partials/device_requests.html", {"rows": rows, "device": device,
                                                                     "colour": colour})


# --- Batches -------------------------------------------------------------------------------------

@view_of(Batch, "adapter.batch.view_list")
def batch_list(request):
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may(request.user, "adapter.servicerequest.submit"):
            raise PermissionDenied("Your role cannot send service requests.")
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
    batches = selectors.batches_visible(request.user)[:100]
    return render(request, "adapter/batch_list.html", {"batches": batches, "form": form, "colour": colour,
                                                       "can_upload": may(request.user, "adapter.batch.add")})


def _batch_context(request, pk):
    batch = get_scoped_or_404(request.user, Batch.objects.select_related("organisation", "user"), pk=pk)
    done, total, counts = services.batch_progress(batch)
    percent = int(100 * done / total) if total else (100 if batch.state in FINISHED_BATCH_STATES else 0)
    checked = int(100 * batch.checked_rows / batch.total_rows) if batch.total_rows else 0
    live = batch.state in LIVE_BATCH_STATES
    can_approve = (batch.state == BatchState.AWAITING_APPROVAL and batch.user_id != request.user.pk
                   and may(request.user, "adapter.batch.approve"))
    return {"batch": batch, "can_approve": can_approve, "done": done, "total": total,
            "counts": sorted(counts.items()), "percent": percent,
            "checked_percent": checked, "live": live, "colour": colour, "terminal": TERMINAL}


@view_of(Batch, "adapter.batch.view")
def batch_detail(request, pk):
    context = _batch_context(request, pk)
    rows = context["batch"].rows.select_related("request").order_by("row")
    if request.GET.get("rejected"):
        rows = rows.exclude(code__in=ACCEPTED_ROW_CODES)
    context["rows"] = rows[:200]
    return render(request, "adapter/batch_detail.html", context)


@view_of(Batch, "adapter.batch.view")
def batch_progress(request, pk):
    return render(request, "adapter/partials/batch_progress.html", _batch_context(request, pk))


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
