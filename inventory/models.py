"""Asset register (Smart Metering Inventory) and the configuration item catalogue."""
from auditlog.registry import auditlog
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from inventory.choices import (
    HAN_TYPES,
    HUB_TYPES,
    METER_TYPES,
    DeviceModelStatus,
    DeviceType,
    ItemKind,
    ItemStatus,
    RelationshipKind,
    RequirementCategory,
    RequirementStatus,
    SmetsVersion,
    SMIStatus,
    SwitchState,
)
from inventory.validators import normalise_mprn, parse_mpan
from portal.choices import Region
from portal.ids import normalise_eui64
from portal.models import StatusChange
from portal.scoping import Domain, ScopeRule


def list_of_text(value):
    """A JSON list field that holds names (firmware versions, document references): a list of
    non-blank strings, nothing else, so every reader can join, compare and show them."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError("Give a list of non-blank text values.", code="list_of_text")


class ConfigurationItem(models.Model):
    """A configuration item: a service, system, component, interface, code of connection,
    environment or document that the smart metering network is built from. Items are linked by
    typed relationships; "what is affected if X fails or changes" is answered over those links."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    key = models.SlugField(max_length=64, unique=True, help_text="Short stable key, e.g. dsp, csp-north, ichi")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=ItemKind.choices)
    owner = models.ForeignKey(
        "portal.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="configuration_items"
    )
    version = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default=ItemStatus.LIVE)
    description = models.TextField(blank=True)
    documents = models.JSONField(
        default=list, blank=True, validators=[list_of_text],
        help_text="References of roadmap documents describing this item"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        """The item's page in the catalogue."""
        return reverse("inventory:ci_detail", args=[self.key])


class ItemRelationship(models.Model):
    """A typed, directed link between two configuration items, read "source <kind> target"
    (e.g. "DCC User Gateway depends on DSP"). An item is never linked to itself and the same
    link is never recorded twice."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    source = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="outgoing")
    kind = models.CharField(max_length=16, choices=RelationshipKind.choices)
    target = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="incoming")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["source__name", "kind", "target__name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "target"], name="inventory_relationship_unique"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="inventory_relationship_no_self"
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.get_kind_display()} {self.target}"

    def clean(self):
        if self.source_id and self.source_id == self.target_id:
            raise ValidationError({"target": "An item cannot be related to itself."})


class Requirement(models.Model):
    """A requirement placed on a configuration item (e.g. one of the ICHI high-level
    requirements), with its category, status and the document that states it."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    item = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="requirements")
    reference = models.CharField(max_length=40, help_text="e.g. ICHI-GEN-01")
    category = models.CharField(max_length=12, choices=RequirementCategory.choices)
    text = models.TextField()
    status = models.CharField(max_length=12, choices=RequirementStatus.choices, default=RequirementStatus.DRAFT)
    document = models.CharField(max_length=200, blank=True, help_text="The document that states it")

    class Meta:
        ordering = ["item", "category", "reference"]
        constraints = [models.UniqueConstraint(fields=["item", "reference"], name="inventory_requirement_unique")]

    def __str__(self):
        return f"{self.reference}: {self.text[:60]}"


class DeviceModel(models.Model):
    """A device model on the Central Products List: one manufacturer's model of one device type,
    the SMETS/CHTS version it meets and its approved firmware versions. Withdrawing a model
    affects every device of that model."""

    scope_rule = ScopeRule(Domain.REFERENCE)

    manufacturer_id = models.CharField(max_length=8, help_text="Manufacturer identifier, e.g. 1234")
    manufacturer_name = models.CharField(max_length=120, blank=True)
    model_id = models.CharField(max_length=40, help_text="Model identifier, e.g. E470-5394")
    device_type = models.CharField(max_length=8, choices=DeviceType.choices)
    smets_version = models.CharField(max_length=8, choices=SmetsVersion.choices, default=SmetsVersion.SMETS2)
    firmware_versions = models.JSONField(default=list, blank=True, validators=[list_of_text],
                                         help_text="Approved firmware versions")
    status = models.CharField(max_length=12, choices=DeviceModelStatus.choices, default=DeviceModelStatus.APPROVED)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    items = models.ManyToManyField(ConfigurationItem, blank=True, related_name="device_models",
                                   help_text="Configuration items this model relies on")

    class Meta:
        ordering = ["manufacturer_id", "model_id"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer_id", "model_id"], name="inventory_devicemodel_unique")
        ]

    def __str__(self):
        return f"{self.manufacturer_name or self.manufacturer_id} {self.model_id}"

    def get_absolute_url(self):
        """The model's page, with the devices of that model."""
        return reverse("inventory:model_detail", args=[self.pk])


class DeviceQuerySet(models.QuerySet):
    def for_list(self):
        return self.select_related("supplier", "model", "hub")


class Device(models.Model):
    """One device in the Smart Metering Inventory: a meter, hub or HAN device named by its
    EUI-64, its SMI status, the supplier responsible for it, its supply point (MPAN or MPRN),
    its CSP region and the communications hub it is joined to."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="supplier")

    device_id = models.CharField("device id", max_length=23, unique=True,
                                 help_text="Canonical EUI-64, e.g. 00-DB-12-34-56-78-90-A0")
    device_type = models.CharField(max_length=8, choices=DeviceType.choices)
    status = models.CharField(max_length=32, choices=SMIStatus.choices, default=SMIStatus.PENDING)
    supplier = models.ForeignKey("portal.Organisation", on_delete=models.PROTECT, related_name="devices")
    region = models.CharField(max_length=10, choices=Region.choices)
    mpxn = models.CharField("MPxN", max_length=13, blank=True, help_text="MPAN core (electricity) or MPRN (gas)")
    # The top line of a full MPAN (an ESME's supply characteristics, the supplier's to keep):
    # blank when only the core was given. db_default too: bulk paths (the bench's INSERT ...
    # SELECT, COPY) that name only the older columns still write valid rows.
    mpan_profile_class = models.CharField("profile class", max_length=2, blank=True, default="", db_default="")
    mpan_meter_timeswitch_code = models.CharField("meter time-switch code", max_length=3, blank=True, default="",
                                                  db_default="")
    mpan_line_loss_factor_class = models.CharField("line loss factor class", max_length=3, blank=True, default="",
                                                   db_default="")
    hub = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="joined_devices")
    model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, null=True, blank=True, related_name="devices")
    firmware_version = models.CharField(max_length=40, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    commissioned_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    items = models.ManyToManyField(ConfigurationItem, blank=True, related_name="devices",
                                   help_text="Configuration items this device relies on")

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # Lists are keyset-paginated on id; each common filter gets an (x, id) index so that a
        # filtered page at a million rows is an index range scan, not a sort.
        indexes = [
            models.Index(fields=["supplier", "id"], name="inv_device_supplier_id"),
            models.Index(fields=["status", "id"], name="inv_device_status_id"),
            models.Index(fields=["device_type", "id"], name="inv_device_type_id"),
            models.Index(fields=["region", "id"], name="inv_device_region_id"),
            models.Index(fields=["firmware_version"], name="inv_device_firmware"),
            models.Index(fields=["mpxn"], name="inv_device_mpxn"),
            # The self-service reports count one supplier's devices by type, model, firmware and
            # status (RSMI_002, RSMI_003): an index-only scan of this index, never the table.
            models.Index(fields=["supplier", "device_type", "model", "firmware_version", "status"],
                         name="inv_device_supplier_report"),
        ]

    def __str__(self):
        return f"{self.device_type} {self.device_id}"

    def get_absolute_url(self):
        """The device's page, named by its canonical EUI-64."""
        return reverse("inventory:device_detail", args=[self.device_id])

    @property
    def full_mpan(self):
        """The 21-digit MPAN when its top line is known, else the core (ESMEs only)."""
        if self.device_type != DeviceType.ESME or not self.mpxn:
            return ""
        return self.mpan_profile_class + self.mpan_meter_timeswitch_code + self.mpan_line_loss_factor_class + self.mpxn

    def clean_fields(self, exclude=None):
        # A full MPAN (21 digits, spaced as on a bill) is split into its top line and core
        # before the fields' own checks, so that the core alone meets mpxn's 13 characters; a
        # value that does not parse is left for clean() to report.
        if self.device_type == DeviceType.ESME and self.mpxn:
            try:
                self._set_mpan(parse_mpan(self.mpxn))
            except ValidationError:
                pass
        super().clean_fields(exclude=exclude)

    def _set_mpan(self, mpan):
        self.mpxn = mpan.core
        if mpan.is_full:
            self.mpan_profile_class = mpan.profile_class
            self.mpan_meter_timeswitch_code = mpan.meter_timeswitch_code
            self.mpan_line_loss_factor_class = mpan.line_loss_factor_class

    def clean(self):
        errors = {}
        try:
            self.device_id = normalise_eui64(self.device_id)
        except ValidationError as exc:
            errors["device_id"] = exc.messages
        if self.mpxn:
            try:
                if self.device_type == DeviceType.ESME:
                    self._set_mpan(parse_mpan(self.mpxn))
                elif self.device_type == DeviceType.GSME:
                    self.mpxn = normalise_mprn(self.mpxn)
                else:
                    errors["mpxn"] = [f"a {self.device_type} has no supply point: only ESME (MPAN) and GSME (MPRN) do"]
            except ValidationError as exc:
                errors["mpxn"] = exc.messages
        if self.device_type != DeviceType.ESME and (self.mpan_profile_class or self.mpan_meter_timeswitch_code
                                                     or self.mpan_line_loss_factor_class):
            errors.setdefault("mpxn", []).append(f"a {self.device_type} has no MPAN top line: only an ESME does")
        if self.model_id and self.device_type and self.model.device_type != self.device_type:
            errors["model"] = [f"model {self.model} is a {self.model.device_type} model, not {self.device_type}"]
        if self.hub_id:
            message = self.hub_problem(self.hub)
            if message:
                errors["hub"] = [message]
        if errors:
            raise ValidationError(errors)

    def hub_problem(self, hub):
        """Why this device cannot be joined to ``hub`` (None when it can)."""
        if (hub.pk is not None and hub.pk == self.pk) or hub.device_id == self.device_id:
            return "a device cannot be joined to itself"
        if self.device_type in HUB_TYPES:
            return "a communications hub is not joined to another device"
        if self.device_type in METER_TYPES or self.device_type == DeviceType.GPF:
            if hub.device_type not in HUB_TYPES:
                return (f"a {self.device_type} joins a communications hub (CHF), "
                        f"not the {hub.device_type} {hub.device_id}")
        elif self.device_type in HAN_TYPES:
            if hub.device_type not in HUB_TYPES | METER_TYPES:
                return (f"a {self.device_type} joins a meter or a communications hub, "
                        f"not the {hub.device_type} {hub.device_id}")
        if self.region and hub.region and hub.region != self.region:
            return f"hub {hub.device_id} is in the {hub.region} region, this device in {self.region}"
        return None


class DeviceStatusChange(StatusChange):
    """One change of a device's SMI status: from what, to what, why, by whom and when.
    The first row of a device (from_status empty) records the status it was created in."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="device__supplier")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=32, choices=SMIStatus.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=SMIStatus.choices)

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["device", "-changed_at"], name="inv_statuschange_device")]

    def __str__(self):
        return f"{self.device.device_id}: {self.transition()}"


class AuxiliarySwitch(models.Model):
    """One of the (up to five) auxiliary load control switches of an ESME, with what it
    controls and its current state."""

    scope_rule = ScopeRule(Domain.OPERATIONAL, org_path="device__supplier")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="switches")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    description = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=8, choices=SwitchState.choices, default=SwitchState.OPEN)

    class Meta:
        ordering = ["device", "number"]
        constraints = [
            models.UniqueConstraint(fields=["device", "number"], name="inventory_switch_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1, number__lte=5), name="inventory_switch_1_to_5"),
        ]

    def __str__(self):
        return f"{self.device.device_id} switch {self.number}"

    def clean(self):
        if self.device_id and self.device.device_type != DeviceType.ESME:
            raise ValidationError({"device": "Only an ESME carries auxiliary load control switches."})


auditlog.register(ConfigurationItem)
auditlog.register(ItemRelationship)
auditlog.register(Requirement)
auditlog.register(DeviceModel, m2m_fields={"items"})
auditlog.register(Device, m2m_fields={"items"})
auditlog.register(AuxiliarySwitch)
