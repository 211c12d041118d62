"""Forms of the adapter: the submit form is generated from the SRV's parameter schema."""
from django import forms

from adapter import schema
from adapter.choices import ThresholdPeriod
from adapter.models import ServiceRequestVariant


class SrvChoiceForm(forms.Form):
    srv = forms.ModelChoiceField(ServiceRequestVariant.objects.all(), to_field_name="code", label="Service request",
                                 empty_label="Choose a service request")


class SubmitForm(forms.Form):
    device_id = forms.CharField(label="Device id (EUI-64)", required=False, max_length=40,
                                help_text="e.g. 00-DB-12-34-56-78-90-A0")

    def __init__(self, *args, srv, **kwargs):
        super().__init__(*args, **kwargs)
        self.srv = srv
        if srv.future_datable:
            self.fields["execute_at"] = forms.DateTimeField(
                label="Execute at (optional, future-dated)", required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
        self.fields.update(schema.form_fields(srv.param_schema or {}))

    def params(self):
        return schema.params_from_form(self.srv.param_schema or {}, self.cleaned_data)


class BatchUploadForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    file = forms.FileField(help_text="CSV or JSON with columns srv, device_id, params_json, execute_at")


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
