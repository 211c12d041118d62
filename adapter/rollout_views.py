"""Pages of rollouts: the list, the form that draws one up, its page (waves with counts by state
and outcome, the events, the controls), the controls themselves (start, start a ready wave, pause,
resume, cancel, dry run) and the dry run's list as CSV. Thin: each control calls adapter.rollouts."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone

from adapter import failures, pacing, rollouts, services
from adapter.choices import LIVE_ROLLOUT_STATES, RolloutState, WaveState, colour
from adapter.models import PACING_FIELDS, Rollout, RolloutWave
from adapter.rollout_forms import RolloutForm, ThrottleForm, WindowForm
from portal.generic import POST, ObjectDetailView, ObjectEditView, ObjectListView, view_of
from portal.scoping import CHANGE, get_scoped_or_404
from portal.tabular import export_response


class RolloutList(ObjectListView):
    model = Rollout
    capability = "adapter.rollout.view_list"
    template_name = "adapter/rollout_list.html"
    pagination = "keyset"
    queryset = Rollout.objects.select_related("organisation", "srv", "created_by")

    def extra_context(self, filterset):
        return {"colour": colour, "can_create": self.may("adapter.rollout.create")}


class RolloutCreate(ObjectEditView):
    model = Rollout
    capability = "adapter.rollout.create"
    form_class = RolloutForm
    template_name = "adapter/rollout_form.html"

    def get_form(self, obj):
        return self.form_class(user=self.request.user, **self.form_kwargs(obj))

    def save(self, form, obj):
        return rollouts.rollout_create(actor=self.request.user, **form.rollout_arguments())

    def success_message(self, result, form):
        return f"Rollout {result} drawn up: run a dry run, then start it."


class RolloutDetail(ObjectDetailView):
    model = Rollout
    capability = "adapter.rollout.view"
    template_name = "adapter/rollout_detail.html"
    queryset = Rollout.objects.select_related("organisation", "srv", "created_by", "started_by", "saved_filter")

    def extra_context(self, obj):
        waves = []
        for wave in obj.waves.select_related("batch").order_by("ordinal"):
            counts = rollouts.wave_counts(wave, refused_by_code=True)
            waves.append({"wave": wave, "counts": counts, "by_state": sorted(counts.by_state.items()),
                          "by_outcome": sorted(counts.by_outcome.items()),
                          "by_class": sorted(rollouts.class_counts(wave).items()),
                          "success": counts.share(counts.successes), "failure": counts.share(
                              counts.failures - wave.acknowledged_failures)})
        may = self.may
        return {
            "waves": waves, "events": obj.events.select_related("actor", "wave").order_by("-at", "-id")[:50],
            "colour": colour, "dry_run": sorted(obj.dry_run_counts.items()),
            "can_start": obj.state == RolloutState.DRAFT and may("adapter.rollout.start", obj),
            "can_start_wave": obj.state == RolloutState.RUNNING and may("adapter.rollout.start", obj),
            "can_pause": obj.state in LIVE_ROLLOUT_STATES and may("adapter.rollout.pause", obj),
            "can_resume": obj.state == RolloutState.PAUSED and may("adapter.rollout.pause", obj),
            "can_cancel": obj.state not in (RolloutState.CANCELLED, RolloutState.COMPLETED)
            and may("adapter.rollout.cancel", obj),
            "can_dry_run": may("adapter.rollout.dry_run", obj), "ready": WaveState.READY,
            "can_decide": obj.state == RolloutState.AWAITING_APPROVAL and obj.needs_approval
            and obj.approved_at is None and obj.started_by_id != self.request.user.pk
            and may("adapter.rollout.approve", obj),
            "retries": obj.retries.select_related("wave", "created_by", "batch").order_by("-id"),
            "can_extend": obj.state in (RolloutState.RUNNING, RolloutState.PAUSED)
            and may("adapter.rollout.start", obj),
            "can_retry": obj.state in (RolloutState.RUNNING, RolloutState.PAUSED, RolloutState.COMPLETED)
            and may("adapter.rollout.start", obj),
            "retried_classes": [c for c in failures.FAILURE_CLASSES if c.retried],
            "failure_classes": failures.FAILURE_CLASSES,
            "estimate": rollouts.estimate(obj),
            "throttle": rollouts.throttle_text(obj), "window": pacing.window_text(obj),
            "window_open": pacing.in_window(obj, timezone.now()),
            "window_form": WindowForm(initial={"window_start": obj.window_start, "window_end": obj.window_end})
            if obj.state not in (RolloutState.CANCELLED, RolloutState.COMPLETED) and may("adapter.rollout.pause", obj)
            else None,
            "throttle_form": ThrottleForm(initial={name: getattr(obj, name) for name in PACING_FIELDS})
            if obj.state not in (RolloutState.CANCELLED, RolloutState.COMPLETED) and may("adapter.rollout.pause", obj)
            else None,
        }


rollout_list = RolloutList.as_view()
rollout_create = RolloutCreate.as_view()
rollout_detail = RolloutDetail.as_view()


def _control(request, pk, action, done):
    rollout = get_scoped_or_404(request.user, Rollout.objects.select_related("organisation"), CHANGE, pk=pk)
    try:
        action(rollout)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except services.Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Rollout {rollout}: {done}.")
    return redirect(rollout)


@view_of(Rollout, "adapter.rollout.start", methods=POST)
def rollout_start(request, pk):
    return _control(request, pk, lambda r: rollouts.rollout_start(rollout=r, actor=request.user), "started")


@view_of(Rollout, "adapter.rollout.start", methods=POST)
def wave_start(request, pk, ordinal):
    def start(rollout):
        wave = get_scoped_or_404(request.user, RolloutWave.objects.select_related("rollout"), rollout=rollout,
                                 ordinal=ordinal)
        rollouts.wave_start(wave=wave, actor=request.user)

    return _control(request, pk, start, f"wave {ordinal} started")


def _with_reason(request, pk, service, done):
    """Pause, resume or cancel, with the person's reason (the form's ``reason``)."""
    return _control(request, pk, lambda r: service(rollout=r, actor=request.user,
                                                   reason=request.POST.get("reason", "")), done)


@view_of(Rollout, "adapter.rollout.pause", methods=POST)
def rollout_pause(request, pk):
    return _with_reason(request, pk, rollouts.rollout_pause, "paused: nothing more is sent")


@view_of(Rollout, "adapter.rollout.pause", methods=POST)
def rollout_resume(request, pk):
    return _with_reason(request, pk, rollouts.rollout_resume, "resumed")


@view_of(Rollout, "adapter.rollout.cancel", methods=POST)
def rollout_cancel(request, pk):
    return _with_reason(request, pk, rollouts.rollout_cancel, "cancelled")


@view_of(Rollout, "adapter.rollout.dry_run", methods=POST)
def rollout_dry_run(request, pk):
    def dry_run(rollout):
        result = rollouts.rollout_dry_run(rollout=rollout, actor=request.user)
        messages.info(request, "Dry run: " + ", ".join(f"{n:,} {code}" for code, n in sorted(result.counts.items())))

    return _control(request, pk, dry_run, "checked, nothing sent")


@view_of(Rollout, "adapter.rollout.dry_run")
def rollout_dry_run_download(request, pk):
    """Every device's dry-run outcome as CSV (or ``?format=xlsx``), checked afresh."""
    rollout = get_scoped_or_404(request.user, Rollout.objects.select_related("organisation", "srv"), pk=pk)
    result = rollouts.rollout_dry_run(rollout=rollout, actor=request.user)
    return export_response(f"rollout-{rollout.pk}-dry-run", ["device_id", "outcome", "message"], result.rows,
                           fmt=request.GET.get("format", "csv"))



def _form_refused(request, pk, form):
    rollout = get_scoped_or_404(request.user, Rollout.objects.all(), CHANGE, pk=pk)
    messages.error(request, "; ".join(f"{form.fields[name].label}: {' '.join(errors)}" if name in form.fields
                                      else " ".join(errors) for name, errors in form.errors.items()))
    return redirect(rollout)


@view_of(Rollout, "adapter.rollout.pause", methods=POST)
def rollout_window(request, pk):
    """Change the time window of a rollout that has not ended (both ends empty: any time)."""
    form = WindowForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, pk, form)
    data = form.cleaned_data
    return _control(request, pk, lambda r: rollouts.rollout_window(
        rollout=r, actor=request.user, start=data.get("window_start"), end=data.get("window_end"),
        reason=data.get("reason", "")), "time window changed")


@view_of(Rollout, "adapter.rollout.pause", methods=POST)
def rollout_throttle(request, pk):
    """Change the throttle of a rollout that has not ended (the form's figures; empty: no limit)."""
    form = ThrottleForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, pk, form)
    data = form.cleaned_data
    return _control(request, pk, lambda r: rollouts.rollout_throttle(
        rollout=r, actor=request.user, throttle={name: data.get(name) for name in PACING_FIELDS},
        reason=data.get("reason", "")), "throttle changed")


@view_of(Rollout, "adapter.rollout.start", methods=POST)
def rollout_retry(request, pk):
    """Retry the failed of a class (the form's ``failure_class``, optional ``wave`` ordinal)."""
    wave_text = (request.POST.get("wave") or "").strip()
    wave = int(wave_text) if wave_text.isdigit() and len(wave_text) < 5 else None

    def retry(rollout):
        if wave_text and wave is None:
            raise ValidationError({"wave": "the wave's number, e.g. 2, or empty for every wave"})
        made = rollouts.rollout_retry(rollout=rollout, actor=request.user,
                                      failure_class=request.POST.get("failure_class", ""), wave=wave,
                                      reason=request.POST.get("reason", ""))
        messages.info(request, f"{made.member_count:,} devices retried from {made.not_before:%H:%M:%S} UTC "
                      f"(attempt {made.attempt}).")

    return _control(request, pk, retry, "retry made")


@view_of(Rollout, "adapter.rollout.approve", methods=POST)
def rollout_approve(request, pk):
    """A second person approves a rollout held for four eyes: its first wave starts."""
    return _with_reason(request, pk, rollouts.rollout_approve, "approved: its first wave starts")


@view_of(Rollout, "adapter.rollout.approve", methods=POST)
def rollout_decline(request, pk):
    """A second person declines a rollout held for four eyes: it is cancelled, nothing was sent."""
    return _with_reason(request, pk, rollouts.rollout_decline, "declined: nothing was sent")


@view_of(Rollout, "adapter.rollout.start", methods=POST)
def rollout_extend(request, pk):
    """Add the pasted device ids to a running or paused rollout as a new last wave."""
    def extend(rollout):
        wave = rollouts.rollout_extend(rollout=rollout, actor=request.user,
                                       device_list=request.POST.get("device_list", "")[:2_000_000],
                                       reason=request.POST.get("reason", ""))
        messages.info(request, f"{wave.member_count:,} devices added as wave {wave.ordinal}.")

    return _control(request, pk, extend, "extended")


@view_of(Rollout, "adapter.rollout.view")
def rollout_results(request, pk):
    """One row per device (wave, request id, state, outcome, times) as CSV, or ``?format=xlsx``."""
    rollout = get_scoped_or_404(request.user, Rollout.objects.all(), pk=pk)
    return export_response(f"rollout-{rollout.pk}-results", rollouts.RESULT_HEADERS, rollouts.result_rows(rollout),
                           fmt=request.GET.get("format", "csv"), title="results")
