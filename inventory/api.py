"""REST API of the inventory app: devices, device models, configuration items, relationships,
requirements and impact analysis. Every queryset is scoped (portal.api); writes call services."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import selectors, services
from inventory.choices import RelationshipKind, SMIStatus, SwitchState
from inventory.filtersets import DeviceFilterSet, DeviceModelFilterSet, ItemFilterSet, RelationshipFilterSet
from inventory.models import ConfigurationItem, Device, DeviceModel, ItemRelationship, Requirement
from portal.api import ScopedModelViewSet, ScopedReadOnlyViewSet, validated
from portal.choices import Region
from portal.ids import normalise_eui64
from portal.models import Organisation
from portal.pagination import KeysetPagination
from portal.scoping import VIEW, scope


class SwitchSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=5)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    state = serializers.ChoiceField(choices=SwitchState.values, required=False)


class DeviceSerializer(serializers.ModelSerializer):
    supplier = serializers.SlugRelatedField(slug_field="code", queryset=Organisation.objects.all())
    hub = serializers.SerializerMethodField(
        help_text="Device id of the hub it is joined to; null without a hub or when the hub is another "
                  "supplier's (a supplier sees the ids of its own hubs only)")
    hub_id = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                   help_text="Device id of the hub to join (any EUI-64 form)")
    model = serializers.PrimaryKeyRelatedField(queryset=DeviceModel.objects.all(), required=False, allow_null=True)
    device_id = serializers.CharField(help_text="EUI-64 in any accepted form; answered in canonical form")
    mpxn = serializers.CharField(required=False, allow_blank=True,
                                 help_text="MPAN core or full 21-digit MPAN (ESME), MPRN (GSME); answered as the core")
    full_mpan = serializers.CharField(read_only=True,
                                      help_text="The 21-digit MPAN when its top line is known, else the core")

    class Meta:
        model = Device
        fields = ["id", "device_id", "device_type", "status", "supplier", "region", "mpxn", "full_mpan", "hub",
                  "hub_id", "model", "firmware_version", "installed_at", "commissioned_at", "status_changed_at"]
        read_only_fields = ["status_changed_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_hub(self, device: Device) -> str | None:
        request = self.context.get("request")
        # Without a request nobody is asking: name no hub rather than guess who reads the answer.
        return selectors.hub_seen_by(request.user, device) if request is not None else None


class DeviceUpdateSerializer(serializers.Serializer):
    mpxn = serializers.CharField(required=False, allow_blank=True)
    model = serializers.PrimaryKeyRelatedField(queryset=DeviceModel.objects.all(), required=False, allow_null=True)
    firmware_version = serializers.CharField(required=False, allow_blank=True)
    region = serializers.ChoiceField(choices=Region.choices, required=False)
    installed_at = serializers.DateTimeField(required=False, allow_null=True)
    commissioned_at = serializers.DateTimeField(required=False, allow_null=True)


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SMIStatus.choices)
    reason = serializers.CharField(max_length=300)


class HubJoinSerializer(serializers.Serializer):
    hub_id = serializers.CharField(allow_blank=True, help_text="Device id of the hub; empty to leave the hub")


class StatusHistorySerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True,
                                  help_text="Username of who changed it; null for system changes")
    changed_at = serializers.DateTimeField()


class DeviceViewSet(ScopedModelViewSet):
    """Devices of the Smart Metering Inventory. ``{device_id}`` accepts any EUI-64 form
    (00-DB-12-34-56-78-90-A0, 00db1234567890a0, 00:DB:...). Devices are never deleted:
    they are decommissioned or withdrawn through ``status``."""

    queryset = Device.objects.for_list()
    serializer_class = DeviceSerializer
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeviceFilterSet
    lookup_field = "device_id"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        # hub_seen: the hub's id only where the caller may see the hub (inventory.selectors).
        return selectors.with_hub_seen_by(super().get_queryset(), self.request.user)

    def answer(self, devices, **kwargs):
        """The device (or, with ``many=True``, the devices) as the API shows them."""
        many = kwargs.pop("many", False)
        return Response(DeviceSerializer(devices, many=many, context=self.get_serializer_context()).data, **kwargs)

    def posted(self, serializer_class, **kwargs):
        """The URL's device and the request's body: the device first, so another organisation's
        device is a 404 whatever the body says."""
        device = self.get_object()
        return device, validated(serializer_class, self.request, **kwargs)

    def get_object(self):
        try:
            self.kwargs["device_id"] = normalise_eui64(self.kwargs["device_id"])
        except DjangoValidationError:
            from django.http import Http404

            raise Http404("No such device") from None
        return super().get_object()

    def create(self, request, *args, **kwargs):
        """Register one device: DCC operations only, as on the pages (403 for a supplier, whose devices
        are loaded through the device import)."""
        data = validated(DeviceSerializer, request)
        self.check_create_organisation(data["supplier"])
        hub = services.hub_from_id(data.pop("hub_id", ""), actor=request.user)
        device = services.device_create(
            device_id=data["device_id"], device_type=data["device_type"], supplier=data["supplier"],
            region=data["region"], status=data.get("status", SMIStatus.PENDING), mpxn=data.get("mpxn", ""),
            hub=hub, model=data.get("model"), firmware_version=data.get("firmware_version", ""),
            installed_at=data.get("installed_at"), commissioned_at=data.get("commissioned_at"),
            actor=request.user)
        return self.answer(device, status=status.HTTP_201_CREATED)

    @extend_schema(request=DeviceUpdateSerializer, responses=DeviceSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change a device's region, MPAN/MPRN, model, firmware or dates: DCC operations only, as on the
        pages. A supplier's change is refused with 403 naming the fields (status and hub have their own
        actions, open to the device's supplier)."""
        device, data = self.posted(DeviceUpdateSerializer, partial=True)
        device = services.device_update(device=device, actor=request.user, **data)
        return self.answer(device)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return Response({"detail": "Use PATCH."}, status=status.HTTP_405_METHOD_NOT_ALLOWED)
        return super().update(request, *args, **kwargs)

    @extend_schema(request=StatusChangeSerializer, responses=DeviceSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, device_id=None):
        """Move the device to another SMI status; an illegal transition answers 400 naming the allowed ones."""
        device, data = self.posted(StatusChangeSerializer)
        device = services.device_set_status(device=device, actor=request.user, **data)
        return self.answer(device)

    @extend_schema(request=HubJoinSerializer, responses=DeviceSerializer)
    @action(detail=True, methods=["post"])
    def hub(self, request, device_id=None):
        """Join the device to a hub (or leave it with an empty hub_id)."""
        device, data = self.posted(HubJoinSerializer)
        hub = services.hub_from_id(data["hub_id"], actor=request.user)
        device = services.device_join_hub(device=device, hub=hub, actor=request.user)
        return self.answer(device)

    @extend_schema(request=SwitchSerializer, responses=SwitchSerializer)
    @action(detail=True, methods=["post"])
    def switches(self, request, device_id=None):
        """Create or change one auxiliary load control switch (1 to 5) of an ESME."""
        device, data = self.posted(SwitchSerializer)
        switch = services.switch_set(device=device, actor=request.user, **data)
        return Response(SwitchSerializer(switch).data)

    @extend_schema(responses=StatusHistorySerializer(many=True))
    # A plain list (latest 200), not a page: pagination_class=None keeps the schema from documenting one.
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, device_id=None):
        device = self.get_object()
        return Response(StatusHistorySerializer(device.status_history.select_related("actor")[:200], many=True).data)

    @extend_schema(responses=DeviceSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def neighbours(self, request, device_id=None):
        """Devices joined to this one (the ones the user may see)."""
        device = self.get_object()
        joined = selectors.with_hub_seen_by(scope(request.user, Device.objects.for_list(), VIEW).filter(hub=device),
                                            request.user)[:200]
        return self.answer(joined, many=True)


class DeviceModelSerializer(serializers.ModelSerializer):
    items = serializers.SlugRelatedField(slug_field="key", many=True, queryset=ConfigurationItem.objects.all(),
                                         required=False)
    # Declared, not inferred from the JSONField: the schema then says "array of strings" and a null,
    # a number or a nested object in the list is a 400 naming the field instead of a stored oddity.
    firmware_versions = serializers.ListField(child=serializers.CharField(max_length=40), required=False,
                                              max_length=200, help_text="Approved firmware versions")

    class Meta:
        model = DeviceModel
        fields = ["id", "manufacturer_id", "manufacturer_name", "model_id", "device_type", "smets_version",
                  "firmware_versions", "status", "withdrawn_at", "withdrawn_reason", "items"]
        read_only_fields = ["status", "withdrawn_at", "withdrawn_reason"]


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class UpsertViewSet(ScopedModelViewSet):
    """Create and update are one upsert service: ``upsert(data)`` gets the record's current
    ``upsert_fields`` overlaid with the request's (a PATCH names only what changes) and returns
    the saved record."""

    upsert_fields: tuple[str, ...] = ()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer)

    def _save(self, serializer):
        instance = serializer.instance
        current = {f: getattr(instance, f) for f in self.upsert_fields} if instance else {}
        serializer.instance = self.upsert({**current, **serializer.validated_data})

    def upsert(self, data):
        raise NotImplementedError


class DeviceModelViewSet(UpsertViewSet):
    """Central Products List. DCC staff add, change and withdraw models; everyone reads them."""

    queryset = DeviceModel.objects.prefetch_related("items")
    serializer_class = DeviceModelSerializer
    filterset_class = DeviceModelFilterSet
    upsert_fields = ("manufacturer_id", "model_id", "device_type", "smets_version", "firmware_versions",
                     "manufacturer_name")

    def upsert(self, data):
        items = data.pop("items", None)
        device_model = services.device_model_upsert(
            manufacturer_id=data["manufacturer_id"], model_id=data["model_id"], device_type=data["device_type"],
            smets_version=data.get("smets_version", "SMETS2"), firmware_versions=data.get("firmware_versions", []),
            manufacturer_name=data.get("manufacturer_name", ""), actor=self.request.user)
        if items is not None:
            services.device_model_link_items(device_model=device_model, items=items, actor=self.request.user)
        return device_model

    @extend_schema(request=WithdrawSerializer, responses=inline_serializer(
        "ModelWithdrawal", {"model": DeviceModelSerializer(), "affected_devices": serializers.ListField(
            child=serializers.CharField())}))
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw the model; the answer lists the affected devices the user may see."""
        device_model = self.get_object()
        data = validated(WithdrawSerializer, request)
        affected = services.device_model_withdraw(device_model=device_model, actor=request.user,
                                                  reason=data["reason"])
        device_model.refresh_from_db()
        visible = scope(request.user, affected).order_by("device_id").values_list("device_id", flat=True)
        return Response({"model": DeviceModelSerializer(device_model).data, "affected_devices": list(visible)})


class ItemSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="code", queryset=Organisation.objects.all(), required=False,
                                         allow_null=True)
    documents = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=200,
                                      help_text="References of roadmap documents describing this item")

    class Meta:
        model = ConfigurationItem
        fields = ["id", "key", "name", "kind", "owner", "version", "status", "description", "documents"]


class ItemViewSet(UpsertViewSet):
    """Configuration items, looked up by key."""

    queryset = ConfigurationItem.objects.select_related("owner")
    serializer_class = ItemSerializer
    filterset_class = ItemFilterSet
    lookup_field = "key"

    upsert_fields = ("key", "name", "kind", "owner", "version", "status", "description", "documents")

    def upsert(self, data):
        return services.item_upsert(actor=self.request.user, **{f: data[f] for f in self.upsert_fields if f in data})

    @extend_schema(responses=inline_serializer("Impact", {
        "item": serializers.CharField(),
        "affected": serializers.ListField(child=inline_serializer("ImpactEntry", {
            "key": serializers.CharField(), "name": serializers.CharField(),
            "distance": serializers.IntegerField(),
            "path": serializers.ListField(child=serializers.CharField()),
            "links": serializers.ListField(child=serializers.CharField()),
        })),
    }))
    @action(detail=True, methods=["get"])
    def impact(self, request, key=None):
        """What is affected if this item fails or changes: every transitive dependent with the path to it."""
        item = self.get_object()
        affected = []
        for other, path in selectors.impact_of(item):
            affected.append({
                "key": other.key, "name": other.name, "distance": len(path) - 1,
                "path": [step.key for step, _ in path],
                "links": [f"{r.source.key} {r.kind} {r.target.key}" for _, r in path if r is not None],
            })
        return Response({"item": item.key, "affected": affected})


class RelationshipSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="key", queryset=ConfigurationItem.objects.all())
    target = serializers.SlugRelatedField(slug_field="key", queryset=ConfigurationItem.objects.all())
    kind = serializers.ChoiceField(choices=RelationshipKind.choices)

    class Meta:
        model = ItemRelationship
        fields = ["id", "source", "kind", "target", "note"]
        validators = []  # the service answers duplicates and self-links with a clear message


class RelationshipViewSet(ScopedModelViewSet):
    """Typed links between items ("source kind target"). No self-links, no duplicate edges."""

    queryset = ItemRelationship.objects.select_related("source", "target")
    serializer_class = RelationshipSerializer
    filterset_class = RelationshipFilterSet
    http_method_names = ["get", "post", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.relationship_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.relationship_delete(relationship=instance, actor=self.request.user)


class RequirementSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="key", queryset=ConfigurationItem.objects.all())

    class Meta:
        model = Requirement
        fields = ["id", "item", "reference", "category", "text", "status", "document"]


class RequirementViewSet(ScopedReadOnlyViewSet):
    queryset = Requirement.objects.select_related("item")
    serializer_class = RequirementSerializer
    filterset_fields = ["item__key", "category", "status"]


ROUTES = [
    ("devices", DeviceViewSet, "device"),
    ("device-models", DeviceModelViewSet, "device-model"),
    ("items", ItemViewSet, "item"),
    ("relationships", RelationshipViewSet, "relationship"),
    ("requirements", RequirementViewSet, "requirement"),
]

