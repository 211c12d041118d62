"""Demo data of the inventory app: the seed's configuration items and their links, the ICHI
high-level requirements, a small Central Products List and a few thousand devices for the demo
suppliers. Idempotent: items, models and requirements are upserted by key; devices are
generated once."""
from inventory import services
from inventory.choices import ItemKind, ItemStatus, RelationshipKind, RequirementCategory
from inventory.generate import DEMO_BASE, generate
from inventory.models import AuxiliarySwitch, ConfigurationItem, Device, ItemRelationship
from portal.models import Organisation

DEMO_SUPPLIERS = ("SUPA", "SUPB", "SUPC")
DEMO_DEVICES = 3000

# key, name, kind, owner code, version, status, documents
ITEMS = [
    ("dsp", "Data Service Provider (DSP)", ItemKind.SYSTEM, "DSP", "1.0", ItemStatus.IN_BUILD, []),
    ("csp-north", "CSP North", ItemKind.SYSTEM, "CSPN", "1.0", ItemStatus.IN_BUILD, []),
    ("csp-central", "CSP Central", ItemKind.SYSTEM, "CSPC", "1.0", ItemStatus.IN_BUILD, []),
    ("csp-south", "CSP South", ItemKind.SYSTEM, "CSPS", "1.0", ItemStatus.IN_BUILD, []),
    ("smwan", "Smart Metering WAN (SMWAN)", ItemKind.SERVICE, "DCC", "", ItemStatus.IN_BUILD, []),
    ("dcc-user-gateway", "DCC User Gateway", ItemKind.INTERFACE, "DSP", "", ItemStatus.IN_BUILD,
     ["Interface Specs"]),
    ("wan-gateway", "WAN Gateway", ItemKind.INTERFACE, "DCC", "", ItemStatus.IN_BUILD, ["Interface Specs"]),
    ("hht-interface", "Hand Held Terminal interface", ItemKind.INTERFACE, "DCC", "", ItemStatus.PLANNED, []),
    ("ichi", "Intimate Communications Hub Interface (ICHI)", ItemKind.INTERFACE, "DCC", "draft",
     ItemStatus.PLANNED, ["ICHI Specification"]),
    ("smwan-coco", "SMWAN Code of Connection", ItemKind.CODE_OF_CONNECTION, "DCC", "", ItemStatus.PLANNED,
     ["SMWAN CoCo"]),
    ("dugc-coco", "DCC User Gateway Code of Connection", ItemKind.CODE_OF_CONNECTION, "DCC", "",
     ItemStatus.PLANNED, ["DUGC CoCo"]),
    ("parse-and-correlate", "Parse and Correlate", ItemKind.COMPONENT, "DCC", "", ItemStatus.PLANNED,
     ["Parse and Correlate requirements (SDAG_5.03)"]),
    ("communications-hub", "Communications Hub", ItemKind.COMPONENT, "DCC", "CHTS", ItemStatus.IN_BUILD,
     ["CH Detailed Spec"]),
    ("han", "Home Area Network (HAN)", ItemKind.SERVICE, "DCC", "", ItemStatus.PLANNED, ["Wired HAN Approach"]),
    ("test-environment", "Integration test environment (ISFT)", ItemKind.ENVIRONMENT, "DCC", "",
     ItemStatus.PLANNED, []),
    # the seed's design artefacts
    ("doc-gbcs", "GB Companion Specification", ItemKind.DOCUMENT, "DECC", "", ItemStatus.LIVE, []),
    ("doc-cpa", "CPA Security Scheme", ItemKind.DOCUMENT, "DECC", "", ItemStatus.LIVE, []),
    ("doc-smets2", "SMETS 2", ItemKind.DOCUMENT, "DECC", "2", ItemStatus.LIVE, []),
    ("doc-868", "868 Technical Requirement Specification", ItemKind.DOCUMENT, "DECC", "", ItemStatus.IN_BUILD, []),
    ("doc-wired-han", "Wired HAN Approach", ItemKind.DOCUMENT, "DCC", "", ItemStatus.IN_BUILD, []),
    ("doc-ch-spec", "CH Detailed Spec", ItemKind.DOCUMENT, "DCC", "", ItemStatus.IN_BUILD, []),
    ("doc-ichi-spec", "ICHI Specification", ItemKind.DOCUMENT, "DCC", "draft", ItemStatus.IN_BUILD, []),
    ("doc-asset-register", "Asset Register", ItemKind.DOCUMENT, "DCC", "", ItemStatus.IN_BUILD, []),
    ("doc-sms", "Service Management Strategy", ItemKind.DOCUMENT, "DCC", "", ItemStatus.IN_BUILD, []),
    ("doc-solution-architecture", "Solution Architecture", ItemKind.DOCUMENT, "DCC", "", ItemStatus.IN_BUILD, []),
    ("doc-ci-catalogue", "Configuration Items Catalogue", ItemKind.DOCUMENT, "DCC", "", ItemStatus.IN_BUILD, []),
    ("doc-component-specs", "Component Specs", ItemKind.DOCUMENT, "DCC", "", ItemStatus.PLANNED, []),
    ("doc-interface-specs", "Interface Specs", ItemKind.DOCUMENT, "DCC", "", ItemStatus.PLANNED, []),
    ("doc-error-handling", "Error Handling Strategy", ItemKind.DOCUMENT, "DCC", "", ItemStatus.PLANNED, []),
    ("doc-availability", "Availability Plan", ItemKind.DOCUMENT, "DCC", "", ItemStatus.PLANNED, []),
    ("doc-capacity", "Capacity Plan", ItemKind.DOCUMENT, "DCC", "", ItemStatus.PLANNED, []),
    ("doc-security-architecture", "Security Architecture (E2E)", ItemKind.DOCUMENT, "DECC", "2.07",
     ItemStatus.LIVE, []),
]

D, P, C, DOC = (RelationshipKind.DEPENDS_ON, RelationshipKind.PART_OF, RelationshipKind.CONNECTS_TO,
                RelationshipKind.DOCUMENTED_BY)
RELATIONSHIPS = [
    ("dcc-user-gateway", D, "dsp"),
    ("dsp", C, "wan-gateway"),
    ("wan-gateway", D, "csp-north"),
    ("wan-gateway", D, "csp-central"),
    ("wan-gateway", D, "csp-south"),
    ("csp-north", P, "smwan"),
    ("csp-central", P, "smwan"),
    ("csp-south", P, "smwan"),
    ("communications-hub", D, "smwan"),
    ("communications-hub", D, "ichi"),
    ("hht-interface", D, "communications-hub"),
    ("han", D, "communications-hub"),
    ("parse-and-correlate", D, "dcc-user-gateway"),
    ("dcc-user-gateway", DOC, "dugc-coco"),
    ("smwan", DOC, "smwan-coco"),
    ("ichi", DOC, "doc-ichi-spec"),
    ("communications-hub", DOC, "doc-ch-spec"),
    ("han", DOC, "doc-wired-han"),
    ("dsp", DOC, "doc-solution-architecture"),
    ("dcc-user-gateway", DOC, "doc-interface-specs"),
    ("dsp", D, "test-environment"),
    ("doc-ichi-spec", D, "doc-ch-spec"),
    ("doc-ch-spec", D, "doc-gbcs"),
    ("doc-smets2", D, "doc-gbcs"),
]

ICHI_DOC = "ICHI Specification (SDAG, ICHI update)"
ICHI_REQUIREMENTS = [
    ("ICHI-GEN-01", RequirementCategory.GENERAL, "The interface shall be based on open standards."),
    ("ICHI-GEN-02", RequirementCategory.GENERAL, "The interface shall allow for ease of installation including "
     "situations where the interface is not visible to an installer."),
    ("ICHI-PHY-01", RequirementCategory.PHYSICAL, "The interface shall have a common form factor for its connector."),
    ("ICHI-PHY-02", RequirementCategory.PHYSICAL, "The interface shall have a common form factor for its mating "
     "surfaces."),
    ("ICHI-PHY-03", RequirementCategory.PHYSICAL, "The interface shall have a consistent mating force for manual "
     "installation without the need for any tools."),
    ("ICHI-PHY-04", RequirementCategory.PHYSICAL, "The interface shall have an anti-tamper mechanism and a "
     "security seal."),
    ("ICHI-PHY-05", RequirementCategory.PHYSICAL, "The interface shall have a locking mechanism to attach to the "
     "Communications Hub."),
    ("ICHI-ELE-01", RequirementCategory.ELECTRICAL, "The interface shall provide a separate DC power connector."),
    ("ICHI-ELE-02", RequirementCategory.ELECTRICAL, "The interface shall include an identified, separate AC power "
     "connector."),
    ("ICHI-ELE-03", RequirementCategory.ELECTRICAL, "The interface shall include protection for the attached "
     "devices."),
    ("ICHI-DAT-01", RequirementCategory.DATA, "The interface shall include identified data connectors for HAN PLC, "
     "WAN PLC and communications hub to ESME communication."),
]

# manufacturer id, name, model id, type, version, firmware versions, items relied on
MODELS = [
    ("1A2B", "Northgate Metering", "NG-E2", "ESME", "SMETS2", ["2.1.0", "2.2.1"], ["communications-hub"]),
    ("1A2B", "Northgate Metering", "NG-G2", "GSME", "SMETS2", ["1.4.0"], ["communications-hub"]),
    ("3C4D", "Severn Instruments", "SV-400", "ESME", "SMETS2", ["4.0.2", "4.1.0"], ["communications-hub"]),
    ("3C4D", "Severn Instruments", "SV-GAS", "GSME", "SMETS2", ["3.3.0"], ["communications-hub"]),
    ("5E6F", "Hubworks", "HW-CH-N", "CHF", "CHTS", ["1.0.7"], ["ichi", "smwan"]),
    ("5E6F", "Hubworks", "HW-GPF", "GPF", "CHTS", ["1.0.7"], ["ichi"]),
    ("7A8B", "Glowhome", "GH-IHD3", "IHD", "SMETS2", ["3.0"], ["han"]),
    ("7A8B", "Glowhome", "GH-PP1", "PPMID", "SMETS2", ["1.2"], ["han"]),
]


def _say(stdout, text):
    if stdout is not None:
        stdout.write(text)


def load(stdout=None):
    organisations = {o.code: o for o in Organisation.objects.all()}
    items = {}
    for key, name, kind, owner, version, status, documents in ITEMS:
        items[key] = services.item_upsert(key=key, name=name, kind=kind, owner=organisations.get(owner),
                                          version=version, status=status, documents=documents)
    existing = set(ItemRelationship.objects.values_list("source__key", "kind", "target__key"))
    for source, kind, target in RELATIONSHIPS:
        if (source, kind, target) not in existing:
            services.relationship_create(source=items[source], kind=kind, target=items[target])
    for reference, category, text in ICHI_REQUIREMENTS:
        services.requirement_upsert(item=items["ichi"], reference=reference, category=category, text=text,
                                    status="agreed", document=ICHI_DOC)
    for manufacturer_id, name, model_id, device_type, version, firmware, relies_on in MODELS:
        device_model = services.device_model_upsert(manufacturer_id=manufacturer_id, manufacturer_name=name,
                                                    model_id=model_id, device_type=device_type,
                                                    smets_version=version, firmware_versions=firmware)
        services.device_model_link_items(device_model=device_model, items=[items[k] for k in relies_on], actor=None)
    _say(stdout, f"inventory: {ConfigurationItem.objects.count()} configuration items, {len(MODELS)} device models")

    if Device.objects.filter(device_id__startswith="00-DB-DE-").exists():
        return
    suppliers = [organisations[c] for c in DEMO_SUPPLIERS if c in organisations]
    if not suppliers:
        _say(stdout, "inventory: no demo suppliers (load the portal demo first); no devices made")
        return
    written = generate(DEMO_DEVICES, suppliers=suppliers, base=DEMO_BASE, seed=2024, reason="demo data")
    # A few ESMEs carry auxiliary load control switches (storage heaters, immersion heaters).
    esmes = Device.objects.filter(device_type="ESME", device_id__startswith="00-DB-DE-").order_by("id")[:60]
    AuxiliarySwitch.objects.bulk_create(
        AuxiliarySwitch(device=esme, number=n, description=desc, state=state)
        for i, esme in enumerate(esmes)
        for n, desc, state in ((1, "storage heater", "closed" if i % 2 else "open"),
                               (2, "immersion heater", "open"))[: 1 + i % 2]
    )
    _say(stdout, f"inventory: {written} demo devices")
