"""The form that draws up a rollout: SRV, parameters as JSON, the population (an uploaded or pasted
list of device ids, or one of one's saved filters of the device register) and the waves."""
import json

from django import forms

from adapter.failures import FAILURE_CLASSES
from adapter.models import PACING_FIELDS, Rollout, ServiceRequestVariant
from adapter.rollouts import DEVICE_PAGE, MAX_RATE, parse_waves
from portal.savedfilters.models import SavedFilter


class RolloutForm(forms.Form):
    name = forms.CharField(max_length=200)
    srv = forms.ModelChoiceField(ServiceRequestVariant.objects.all(), to_field_name="code", label="Service request",
                                 empty_label="Choose a service request")
    params_json = forms.CharField(label="Parameters (JSON)", required=False, initial="{}",
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text='The SRV\'s parameters, the same for every device, e.g. {"switch": 1}')
    device_file = forms.FileField(label="Device ids (file)", required=False,
                                  help_text="One device id a line, or a CSV whose first column is device_id")
    device_list = forms.CharField(label="or paste device ids", required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    saved_filter = forms.ModelChoiceField(SavedFilter.objects.none(), required=False,
                                          label="or a saved filter of the device register",
                                          help_text="Evaluated once, when the rollout starts")
    from_rollout = forms.ModelChoiceField(Rollout.objects.none(), required=False,
                                          label="or the failed devices of an earlier rollout")
    failure_class = forms.ChoiceField(required=False, label="of the failure class", choices=[
        ("", "any failure"), *((c.key, c.label) for c in FAILURE_CLASSES)])
    waves = forms.CharField(initial="1%, 10%, rest", help_text="Sizes in order: a number of devices, a percentage "
                            "(0.1%) or rest; the last wave takes whatever is left")
    success_threshold = forms.DecimalField(min_value=0, max_value=100, initial=95, decimal_places=2,
                                           help_text="% of a wave answered I0 at which the next wave starts")
    error_threshold = forms.DecimalField(min_value=0, max_value=100, initial=5, decimal_places=2,
                                         help_text="% of a wave failed at which the rollout pauses itself")
    auto_advance = forms.BooleanField(required=False, initial=True,
                                      label="Start the next wave by itself (else it waits for a person)")

    max_per_second = forms.IntegerField(required=False, min_value=1, max_value=MAX_RATE, label="Most per second",
                                        help_text="Throttle: the most requests sent per second (empty: no limit)")
    max_in_flight = forms.IntegerField(required=False, min_value=1, max_value=MAX_RATE, label="Most in flight",
                                       help_text="The most requests handed over and not yet answered")
    region_max_per_second = forms.IntegerField(required=False, min_value=1, max_value=MAX_RATE,
                                               label="Most per second in each region",
                                               help_text="So that the rollout never floods one CSP")
    region_max_in_flight = forms.IntegerField(required=False, min_value=1, max_value=MAX_RATE,
                                              label="Most in flight in each region")
    window_start = forms.TimeField(required=False, label="Send from (Europe/London)",
                                   help_text="The time window, e.g. 01:00 to 05:00; empty: any time")
    window_end = forms.TimeField(required=False, label="Send until (Europe/London)",
                                 help_text="Before the start: the window crosses midnight (22:00 to 04:00)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["saved_filter"].queryset = SavedFilter.objects.filter(user=user, page=DEVICE_PAGE)
        self.fields["from_rollout"].queryset = Rollout.objects.filter(
            organisation_id=user.organisation_id, started_at__isnull=False).order_by("-id")

    def clean_params_json(self):
        text = (self.cleaned_data.get("params_json") or "").strip() or "{}"
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('a JSON object, e.g. {"switch": 1}')
        return value

    def clean_device_file(self):
        upload = self.cleaned_data.get("device_file")
        if upload is None:
            return ""
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("the file is not text (UTF-8)") from None

    def rollout_arguments(self):
        """The keyword arguments of adapter.rollouts.rollout_create."""
        data = self.cleaned_data
        return {"name": data["name"], "srv": data["srv"], "params": data["params_json"],
                "device_list": data["device_file"] or data["device_list"], "saved_filter": data["saved_filter"],
                "waves": parse_waves(data["waves"], success_threshold=data["success_threshold"],
                                     error_threshold=data["error_threshold"], auto_advance=data["auto_advance"]),
                "throttle": {name: data.get(name) for name in PACING_FIELDS},
                "window": (data.get("window_start"), data.get("window_end")),
                "from_rollout": data.get("from_rollout"), "failure_class": data.get("failure_class") or ""}


class ThrottleForm(forms.Form):
    """A running rollout's throttle, changed (empty figures: no limit)."""

    max_per_second = RolloutForm.base_fields["max_per_second"]
    max_in_flight = RolloutForm.base_fields["max_in_flight"]
    region_max_per_second = RolloutForm.base_fields["region_max_per_second"]
    region_max_in_flight = RolloutForm.base_fields["region_max_in_flight"]
    reason = forms.CharField(required=False, max_length=500, label="Why")


class WindowForm(forms.Form):
    """A rollout's time window, changed (both empty: any time)."""

    window_start = RolloutForm.base_fields["window_start"]
    window_end = RolloutForm.base_fields["window_end"]
    reason = forms.CharField(required=False, max_length=500, label="Why")
