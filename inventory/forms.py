"""Forms of the inventory pages: they parse input; services decide."""
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import formats
from django.utils.html import conditional_escape

from inventory.choices import (
    DeviceType,
    ItemKind,
    ItemStatus,
    RelationshipKind,
    RequirementCategory,
    RequirementStatus,
    SMIStatus,
    SwitchState,
)
from inventory.models import ConfigurationItem, DeviceModel
from portal.choices import OrganisationKind, Region
from portal.models import Organisation


def _attrs(attrs):
    """django/forms/widgets/attrs.html in Python."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}" if value is True
                   else f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def _input(context):
    widget = context["widget"]
    value = "" if widget["value"] is None else f' value="{conditional_escape(str(widget["value"]))}"'
    return (f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
            f'{value}{_attrs(widget["attrs"])}>')


def _select(context):
    widget = context["widget"]
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                raise _Unsupported
            out.append(f'\n  <option value="{conditional_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                       f'{conditional_escape(formats.localize(option["label"]))}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _label(context):
    if not context["use_tag"]:
        return str(conditional_escape(context["label"]))
    tag = conditional_escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{conditional_escape(context['label'])}</{tag}>"


def _form_p(context):
    """django/forms/p.html in Python, whitespace and all."""
    fields, hidden = context["fields"], context["hidden_fields"]
    if not fields:
        raise _Unsupported
    out = [f"{conditional_escape(context['errors'])}\n\n"]
    for index, (field, errors) in enumerate(fields):
        classes = field.css_classes()
        out.append(f"\n  {conditional_escape(errors)}\n  <p")
        if classes:
            out.append(f' class="{conditional_escape(classes)}"')
        out.append(">\n    ")
        if field.label:
            out.append(conditional_escape(field.label_tag()))
        out.append(f"\n    {conditional_escape(field)}\n    ")
        if field.help_text:
            ident = f' id="{conditional_escape(field.auto_id)}_helptext"' if field.auto_id else ""
            out.append(f'\n      <span class="helptext"{ident}>{field.help_text}</span>\n    ')
        out.append("\n    ")
        if index == len(fields) - 1:
            out.append("\n      " + "".join(conditional_escape(h) for h in hidden) + "\n    ")
        out.append("\n  </p>\n")
    out.append("\n\n")
    return "".join(out)


class _Unsupported(Exception):
    pass


class QuickRenderer(DjangoTemplates):
    """Django's form renderer, except that text inputs, selects, labels and as_p are written in
    Python with the same markup as Django's templates (tests/inventory/test_forms.py compares).
    A <select> of 76 options through Django's templates is three template includes per option:
    half the device list page's time. Anything else falls back to the templates."""

    QUICK = {
        **{f"django/forms/widgets/{kind}.html": _input
           for kind in ("text", "number", "email", "url", "search", "hidden", "password", "input")},
        "django/forms/widgets/select.html": _select,
        "django/forms/label.html": _label,
        "django/forms/p.html": _form_p,
    }

    def render(self, template_name, context, request=None):
        quick = self.QUICK.get(template_name)
        if quick is not None:
            try:
                return quick(context).strip()
            except _Unsupported:
                pass
        return super().render(template_name, context, request)


QUICK_RENDERER = QuickRenderer()


class QuickForm(forms.Form):
    """A form drawn by QuickRenderer (the device list's filters and bulk status change)."""

    default_renderer = QUICK_RENDERER


# A change form never starts on a choice: a status or switch state is picked, never taken by default.
CHOOSE = ("", "Choose…")


class StatusForm(QuickForm):
    status = forms.ChoiceField(choices=[CHOOSE, *SMIStatus.choices])
    reason = forms.CharField(max_length=300)


class BulkStatusForm(StatusForm):
    pass


class HubForm(forms.Form):
    hub_id = forms.CharField(required=False, label="Hub device id", help_text="Empty to leave the hub")


class SwitchForm(forms.Form):
    number = forms.IntegerField(min_value=1, max_value=5)
    description = forms.CharField(max_length=200, required=False)
    state = forms.ChoiceField(choices=[CHOOSE, *SwitchState.choices])


class WithdrawForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX with columns device_id, device_type, manufacturer, model, "
                                     "firmware_version, status, supplier, mpxn, region, hub_id")


class ItemForm(forms.Form):
    key = forms.SlugField(max_length=64, help_text="Short stable key, e.g. dsp, csp-north, ichi")
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ItemKind.choices)
    owner = forms.ModelChoiceField(queryset=Organisation.objects.order_by("name"), required=False,
                                   to_field_name="code")
    version = forms.CharField(max_length=40, required=False)
    status = forms.ChoiceField(choices=ItemStatus.choices, initial=ItemStatus.LIVE)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    documents = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                help_text="Roadmap documents describing it, one per line")

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The key is cited by pages and links; it is shown, not changed.
            self.fields["key"].disabled = True

    def clean_documents(self):
        lines = (line.strip() for line in self.cleaned_data["documents"].splitlines())
        return list(dict.fromkeys(line for line in lines if line))


class RelationshipForm(forms.Form):
    kind = forms.ChoiceField(choices=RelationshipKind.choices)
    target = forms.ModelChoiceField(queryset=ConfigurationItem.objects.all(), to_field_name="key",
                                    error_messages={"invalid_choice": "Choose an item of the catalogue."})
    note = forms.CharField(max_length=200, required=False)


class RequirementForm(forms.Form):
    reference = forms.CharField(max_length=40, help_text="e.g. ICHI-GEN-01")
    category = forms.ChoiceField(choices=RequirementCategory.choices)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(choices=RequirementStatus.choices, initial=RequirementStatus.DRAFT)
    document = forms.CharField(max_length=200, required=False, help_text="The document that states it")

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["reference"].disabled = True


class ItemLinksForm(forms.Form):
    items = forms.ModelMultipleChoiceField(queryset=ConfigurationItem.objects.order_by("name"), required=False,
                                           widget=forms.CheckboxSelectMultiple, to_field_name="key",
                                           label="Configuration items it relies on")


_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DeviceForm(forms.Form):
    """One device. The id may be typed in any EUI-64 form; the services normalise and check it,
    the supply point (MPAN check digit, MPRN), the model's type and the hub rules."""

    # the services' names for two of its fields (portal.errors.errors_to_form reads it)
    field_map = {"hub": "hub_id", "supplier_id": "supplier"}

    device_id = forms.CharField(max_length=40, label="Device id",
                                help_text="EUI-64 in any form: 00-DB-12-34-56-78-90-A0, 00db1234567890a0, 00:DB:…")
    device_type = forms.ChoiceField(choices=DeviceType.choices)
    supplier = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.SERVICE_USER).order_by("name"),
        to_field_name="code", help_text="The supplier responsible for the device")
    region = forms.ChoiceField(choices=Region.choices)
    status = forms.ChoiceField(choices=SMIStatus.choices, initial=SMIStatus.PENDING,
                               help_text="The status it is registered in; later changes go through the status form")
    mpxn = forms.CharField(max_length=40, required=False, label="MPxN",
                           help_text="MPAN core or the full 21-digit MPAN (ESME: distributor and check digit "
                                     "checked) or MPRN (GSME)")
    hub_id = forms.CharField(max_length=40, required=False, label="Hub device id",
                             help_text="The communications hub (or meter, for a HAN device) it is joined to")
    model = forms.ModelChoiceField(queryset=DeviceModel.objects.all(), required=False)
    firmware_version = forms.CharField(max_length=40, required=False)
    installed_at = forms.DateTimeField(required=False, widget=_DATETIME)
    commissioned_at = forms.DateTimeField(required=False, widget=_DATETIME)

    EDITABLE = ("region", "mpxn", "hub_id", "model", "firmware_version", "installed_at", "commissioned_at")

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # Id, type and supplier name the device; its status moves only through transitions.
            for name in ("device_id", "device_type", "supplier", "status"):
                self.fields[name].disabled = True
                self.fields[name].help_text = ""

    def clean(self):
        data = super().clean()
        model, firmware = data.get("model"), data.get("firmware_version")
        if model and firmware and model.firmware_versions and firmware not in model.firmware_versions:
            self.add_error("firmware_version", f"{firmware!r} is not an approved firmware of {model.model_id} "
                                               f"(approved: {', '.join(model.firmware_versions)})")
        return data
