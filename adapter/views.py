"""Pages of the adapter: requests (submit, list, detail with timeline, cancel), batches, alerts,
anomaly thresholds, and the device page's fragment of recent requests."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from adapter import selectors, services
from adapter.choices import CANCELLABLE, TERMINAL, RequestState, colour
from adapter.filtersets import AlertFilterSet, RequestFilterSet
from adapter.forms import BatchUploadForm, SrvChoiceForm, SubmitForm, ThresholdForm
from adapter.models import AnomalyThreshold, Batch, ServiceRequest, ServiceRequestVariant
from inventory.models import Device
from portal.dbrouter import replica_reads
from portal.scoping import CHANGE, can_create, get_scoped_or_404, scope
from portal.tabular import export_response


def _page_size(request):
    try:
        return max(1, min(int(request.GET.get("size", 50)), 500))
    except ValueError:
        return 50


def _before(request):
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


def _querystring(request, **changes):
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@login_required
def request_list(request):
    filterset = RequestFilterSet(request.GET, queryset=selectors.requests_visible(request.user))
    rows, next_before = selectors.keyset_page(filterset.qs, before=_before(request), size=_page_size(request))
    return render(request, "adapter/request_list.html", {
        "filter": filterset, "rows": rows, "colour": colour,
        "next_url": f"?{_querystring(request, before=next_before)}" if next_before else "",
        "can_submit": can_create(request.user, ServiceRequest),
    })


@login_required
def request_detail(request, pk):
    obj = get_scoped_or_404(request.user, ServiceRequest.objects.for_list(), pk=pk)
    segments, total = selectors.timeline(obj)
    return render(request, "adapter/request_detail.html", {
        "obj": obj, "segments": segments, "total": total, "state_colour": colour(obj.state),
        "can_cancel": obj.state in CANCELLABLE, "attempts": obj.send_attempts.all(),
        "can_release": request.user.is_dcc and obj.state == RequestState.QUARANTINED,
    })


request_detail.scoped_model = ServiceRequest


@login_required
def request_submit(request):
    if not can_create(request.user, ServiceRequest) or request.user.organisation is None:
        raise PermissionDenied("Your role cannot send service requests.")
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
            return redirect("adapter:request_detail", pk=obj.pk)
    return render(request, "adapter/request_submit.html", {"chooser": chooser, "form": form, "srv": srv})


def _post_action(request, pk, action):
    obj = get_scoped_or_404(request.user, ServiceRequest.objects.select_related("srv"), CHANGE, pk=pk)
    try:
        action(obj)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("adapter:request_detail", pk=obj.pk)


@login_required
@require_POST
def request_cancel(request, pk):
    def cancel(obj):
        services.request_cancel(request=obj, actor=request.user)
        messages.success(request, f"{obj.request_id} cancelled.")

    return _post_action(request, pk, cancel)


request_cancel.scoped_model = ServiceRequest


@login_required
@require_POST
def request_release(request, pk):
    if not request.user.is_dcc:
        raise Http404
    return _post_action(request, pk, lambda obj: services.request_release(request=obj, actor=request.user))


request_release.scoped_model = ServiceRequest


@login_required
@require_POST
def request_reject(request, pk):
    if not request.user.is_dcc:
        raise Http404
    return _post_action(request, pk, lambda obj: services.request_reject(request=obj, actor=request.user))


request_reject.scoped_model = ServiceRequest


@login_required
def device_requests(request, device_id):
    """htmx fragment for the inventory device page: the device's recent requests the user may see."""
    from portal.ids import is_eui64, normalise_eui64

    if not is_eui64(device_id):
        raise Http404("No such device")
    device = get_scoped_or_404(request.user, Device, device_id=normalise_eui64(device_id))
    rows = selectors.device_recent_requests(request.user, device)
    return render(request, "adapter/partials/device_requests.html", {"rows": rows, "device": device,
                                                                     "colour": colour})


device_requests.scoped_model = Device


# --- Batches -------------------------------------------------------------------------------------

@login_required
def batch_list(request):
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_create(request.user, Batch) or request.user.organisation is None:
            raise PermissionDenied("Your role cannot send service requests.")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            from django.conf import settings

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
                    return redirect("adapter:batch_detail", pk=batch.pk)
    batches = selectors.batches_visible(request.user)[:100]
    return render(request, "adapter/batch_list.html", {"batches": batches, "form": form, "colour": colour,
                                                       "can_upload": can_create(request.user, Batch)})


def _batch_context(request, pk):
    batch = get_scoped_or_404(request.user, Batch.objects.select_related("organisation", "user"), pk=pk)
    done, total, counts = services.batch_progress(batch)
    percent = int(100 * done / total) if total else (100 if batch.state in ("completed", "failed") else 0)
    checked = int(100 * batch.checked_rows / batch.total_rows) if batch.total_rows else 0
    live = batch.state in ("uploaded", "validating", "running")
    return {"batch": batch, "done": done, "total": total, "counts": sorted(counts.items()), "percent": percent,
            "checked_percent": checked, "live": live, "colour": colour, "terminal": TERMINAL}


@login_required
def batch_detail(request, pk):
    context = _batch_context(request, pk)
    rows = context["batch"].rows.select_related("request").order_by("row")
    if request.GET.get("rejected"):
        rows = rows.exclude(code__in=["I99", "Q"])
    context["rows"] = rows[:200]
    return render(request, "adapter/batch_detail.html", context)


batch_detail.scoped_model = Batch


@login_required
def batch_progress(request, pk):
    return render(request, "adapter/partials/batch_progress.html", _batch_context(request, pk))


batch_progress.scoped_model = Batch


@login_required
@replica_reads
def batch_results(request, pk):
    batch = get_scoped_or_404(request.user, Batch, pk=pk)
    rows = batch.rows.select_related("request").order_by("row").iterator(chunk_size=5000)
    data = ({"row": r.row, "srv": r.srv_code, "device_id": r.device_ref, "code": r.code, "message": r.message,
             "request_id": r.request.request_id if r.request else "", "state": r.request.state if r.request else
             "rejected", "outcome": r.request.outcome if r.request else r.code} for r in rows)
    return export_response(f"batch-{batch.pk}-results",
                           ["row", "srv", "device_id", "code", "message", "request_id", "state", "outcome"], data,
                           fmt=request.GET.get("format", "csv"))


batch_results.scoped_model = Batch


@login_required
@require_POST
def batch_cancel(request, pk):
    batch = get_scoped_or_404(request.user, Batch, CHANGE, pk=pk)
    services.batch_cancel(batch=batch, actor=request.user)
    messages.success(request, f"Batch {batch.pk} cancelled: requests not yet sent were cancelled.")
    return redirect("adapter:batch_detail", pk=batch.pk)


batch_cancel.scoped_model = Batch


# --- Alerts and thresholds -----------------------------------------------------------------------

@login_required
def alert_list(request):
    filterset = AlertFilterSet(request.GET, queryset=selectors.alerts_visible(request.user))
    rows, next_before = selectors.keyset_page(filterset.qs, before=_before(request), size=_page_size(request))
    return render(request, "adapter/alert_list.html", {
        "filter": filterset, "rows": rows,
        "next_url": f"?{_querystring(request, before=next_before)}" if next_before else ""})


@login_required
def threshold_list(request):
    thresholds = scope(request.user, AnomalyThreshold.objects.select_related("organisation", "srv"))
    may_add = can_create(request.user, AnomalyThreshold) and request.user.organisation is not None \
        and not request.user.is_dcc
    form = ThresholdForm(request.POST or None)
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied("Only a service user sets its own thresholds.")
        if form.is_valid():
            try:
                services.threshold_save(organisation=request.user.organisation, srv=form.cleaned_data["srv"],
                                        period=form.cleaned_data["period"], limit=form.cleaned_data["limit"],
                                        note=form.cleaned_data["note"], actor=request.user)
            except ValidationError as exc:
                form.add_error(None, "; ".join(exc.messages))
            else:
                messages.success(request, "Threshold saved.")
                return redirect("adapter:threshold_list")
    return render(request, "adapter/threshold_list.html", {"thresholds": thresholds, "form": form,
                                                           "may_add": may_add})


@login_required
@require_POST
def threshold_delete(request, pk):
    threshold = get_scoped_or_404(request.user, AnomalyThreshold, CHANGE, pk=pk)
    services.threshold_delete(threshold=threshold, actor=request.user)
    messages.success(request, "Threshold removed.")
    return redirect("adapter:threshold_list")


threshold_delete.scoped_model = AnomalyThreshold


@login_required
def catalogue(request):
    srvs = scope(request.user, ServiceRequestVariant)
    return render(request, "adapter/catalogue.html", {"srvs": srvs, "now": timezone.now()})
