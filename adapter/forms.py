"""Forms of the adapter: the submit form is generated from the SRV's parameter schema."""
from django import forms
from django.urls import reverse

from adapter import schema
from adapter.choices import ThresholdPeriod
from adapter.models import ServiceRequestVariant


class SrvChoiceForm(forms.Form):
    """The SRV picker without script: a select grouped by DUIS service, offering the SRVs the
    person's organisation may send (``groups`` from selectors.srv_groups)."""

    srv = forms.ChoiceField(label="Service request")
    device_id = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        choices: list = [("", "Choose a service request")]
        for service, entries in groups:
            sendable = [(e["code"], f"{e['code']} {e['name']}{' (critical)' if e['critical'] else ''}")
                        for e in entries if e["may_send"]]
            if sendable:
                choices.append((service, sendable))
        self.fields["srv"].choices = choices
        self.fields["srv"].error_messages["invalid_choice"] = (
            "%(value)s is not a service request your organisation may send: choose one from the list.")

    def clean_srv(self):
        return ServiceRequestVariant.objects.get(code=self.cleaned_data["srv"])


class SubmitForm(forms.Form):
    device_id = forms.CharField(label="Device id (EUI-64)", required=False, max_length=40,
                                help_text="e.g. 00-DB-12-34-56-78-90-A0; type the first digits to choose "
                                          "one of your devices this request fits")

    def __init__(self, *args, srv, **kwargs):
        super().__init__(*args, **kwargs)
        self.srv = srv
        if srv.non_device:
            self.fields["device_id"].help_text = "Optional: this request is not sent to a device."
        # The device autocomplete (htmx): what was typed, answered with at most 20 of the person's
        # devices this SRV fits, as the options of the field's datalist.
        self.fields["device_id"].widget.attrs.update({
            "list": "device-options", "autocomplete": "off", "spellcheck": "false", "size": 26,
            "hx-get": f"{reverse('adapter:device_autocomplete')}?srv={srv.code}",
            "hx-trigger": "input changed delay:200ms, focus once", "hx-target": "#device-options",
            "hx-swap": "innerHTML", "hx-sync": "this:replace",
        })
        if srv.future_datable:
            self.fields["execute_at"] = forms.DateTimeField(
                label="Execute at (optional, future-dated)", required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
        self.fields.update(schema.form_fields(srv.param_schema or {}))

    def params(self):
        return schema.params_from_form(self.srv.param_schema or {}, self.cleaned_data)


class BatchUploadForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    file = forms.FileField(help_text="CSV, XLSX or JSON with columns srv, device_id and the parameters of its SRVs "
                                     "(or params_json), optionally execute_at")


class ThresholdForm(forms.Form):
    srv = forms.ModelChoiceField(ServiceRequestVariant.objects.all(), required=False, to_field_name="code",
                                 empty_label="All service requests", label="Service request")
    period = forms.ChoiceField(choices=ThresholdPeriod.choices)
    limit = forms.IntegerField(min_value=1)
    note = forms.CharField(max_length=200, required=False)


class CertificateUploadForm(forms.Form):
    """A certificate as a file or pasted PEM. Only the certificate: the key stays with its owner."""

    file = forms.FileField(required=False, label="Certificate file (.pem, .crt)",
                           help_text="The certificate only: never your private key.")
    certificate = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}),
                                  label="or paste the PEM", help_text="-----BEGIN CERTIFICATE----- ...")

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None and upload.size > 16 * 1024:
            raise forms.ValidationError({"file": "larger than 16 kB: not a certificate"})
        if upload is None and not (data.get("certificate") or "").strip():
            raise forms.ValidationError({"certificate": "choose a certificate file or paste its PEM"})
        return data

    def pem(self) -> bytes:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return upload.read()
        return self.cleaned_data["certificate"].encode("utf-8")
