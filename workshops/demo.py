"""Demo data from the seed meeting pack (SDAG meeting #6, 23 April 2013): its agenda, every action
in the actions log with its updates and statuses, the outstanding RAID topics, the architecture
artefacts and products tables, the PPMID consultation (193 comments by theme), the May workshops
and meeting #7. Idempotent: every record is found by its natural key before it is created.

Where the pack is silent, values are assumptions marked "assumed" below (meeting #6's date is the
due date of most actions, 23.04.13; update dates are the meeting at which they were reported)."""
import datetime as dt
import itertools

from portal import services as portal_services
from portal.choices import OrganisationKind, PortalRole
from portal.models import Organisation, User
from workshops import importers, models, services
from workshops.choices import (
    ActionStatus,
    Disposition,
    DistributionState,
    DocumentCategory,
    MeetingKind,
    OutcomeKind,
    RaidKind,
)

D = dt.date
T = dt.time

EXTRA_ORGANISATIONS = [
    ("ENA", "Energy Networks Association"),
    ("BEAMA", "BEAMA (meter manufacturers)"),
    ("NPOWER", "Npower"),
]

# username, first, last, initials as in the log, organisation
PEOPLE = [
    ("colin.sawyer", "Colin", "Sawyer", "CS", "DECC"),
    ("peter.morgan", "Peter", "Morgan", "PM", "DECC"),
    ("kevin.house", "Kevin", "House", "KH", "DECC"),
    ("dominic.gibbeson", "Dominic", "Gibbeson", "DG", "DECC"),
    ("seamus.gallagher", "Seamus", "Gallagher", "SG", "DECC"),
    ("decc.jh", "J.", "H. (DECC)", "JH", "DECC"),
    ("decc.mb", "M.", "B. (DECC)", "MB", "DECC"),
    ("decc.aa", "A.", "A. (DECC)", "AA", "DECC"),
    ("decc.ph", "P.", "H. (DECC)", "PH", "DECC"),
    ("alan.creighton", "Alan", "Creighton", "Alan C", "ENA"),
    ("beama.chris", "Chris", "S. (BEAMA)", "Chris S", "BEAMA"),
    ("npower.ac", "A.", "C. (Npower)", "AC", "NPOWER"),
]

AGENDA = [
    # position, start, end, title, presenter usernames
    (1, T(10, 0), T(10, 15), "Actions from previous meeting", ["colin.sawyer"]),
    (2, T(10, 15), T(10, 45), "Consolidated Issues Log - update", ["colin.sawyer"]),
    (3, T(10, 45), T(11, 30), "PPMID summary of findings", ["peter.morgan"]),
    (4, T(11, 30), T(12, 0), "Review of GBCS and Use cases", ["peter.morgan"]),
    (5, T(12, 0), T(12, 45), "ALCS update", ["kevin.house"]),
    (6, T(13, 15), T(14, 0), "Service level performance management", ["dominic.gibbeson"]),
    (7, T(14, 0), T(14, 30), "ICHI update", ["seamus.gallagher"]),
    (8, T(14, 45), T(15, 0), "AOB", []),
]

OUTCOMES = {
    2: [(OutcomeKind.INFORMATION, "Outstanding issues: HAN; 868 development; ALCS; Parse and Correlate; detail "
                                  "defining the functionality of each component of the end-to-end solution; wired "
                                  "HAN mandate.")],
    3: [(OutcomeKind.INFORMATION, "193 comments received - main themes: clarification and scope of PPMID; power "
                                  "supply requirements; overlap with IHD requirements; enable supply for gas; other "
                                  "(user interface, clock).")],
    4: [(OutcomeKind.INFORMATION, "GBCS skeleton (26 pages), Gas Use Cases annex (222 pages) and Protocol "
                                  "Conformance annex (69 pages) are work in progress."),
        (OutcomeKind.DECISION, "First draft complete GBCS (use cases, security and HAN ready message sections) "
                               "to be provided to DCC bidders by the end of July; protocol specifications updated "
                               "post July.")],
    5: [(OutcomeKind.INFORMATION, "ALC solution defined within 3 documents: HCALC DDS, SMETS2 version B, GB "
                                  "Companion Specification. Issue HCALC DDS for SDAG review w/c 3/5 (target).")],
    6: [(OutcomeKind.INFORMATION, "End-to-end measures: PM1 on-demand 30 s + HAN/meter time for 99%; PM2 future "
                                  "dated 24 h for 99%; PM3 alerts 60 s for 99%.")],
    7: [(OutcomeKind.INFORMATION, "DCC will develop a single ICHI specification through the CSPs; DECC signs off "
                                  "that the process was followed.")],
    8: [(OutcomeKind.INFORMATION, "Workshops: Install and Commission, and CoS - 15 May 13; Service Management - "
                                  "22 May 13; Firmware Management - 29 May 13. Offer of 1:1 meetings remains open."),
        (OutcomeKind.INFORMATION, "Npower: decisions timeline for the EED 24 months requirement. Energy Efficiency "
                                  "Directive consultation closed on 6 February.")],
}

# reference, title, text, owners (usernames; ALL), due, status, updates (DD.MM.YY: text)
ACTIONS = [
    ("SDAG_2.11", "Billing reads", "Npower agreed to inform DECC if they have any residual concerns with billing "
     "cycle orchestration & push/pull comments once they have read the Technical Architecture document",
     "npower.ac;decc.jh", "26.03.13", "open",
     "26.03.13: AC agreed to provide DECC with information on where processes are misaligned and a list of the "
     "risks associated.\n26.03.13: Complete\n23.04.13: DECC were to respond to the information provided by AC"),
    ("SDAG_2.13", "Batching of User requests", "Stakeholders were keen to get a requirement for batch updates of "
     "service requests over the DCC User Gateway. DECC agreed to consider if this fitted within the architecture.",
     "decc.jh", "23.04.13", "ongoing", ""),
    ("SDAG_2.15", "Outage reporting", "DECC to talk to Alan Creighton of the ENA to discuss Outage Management "
     "requirements and confirm requirements from the ENA and ensure alignment within the CSP schedule 2.1",
     "alan.creighton", "28.03.13", "ongoing",
     "26.03.13: Alan Creighton agreed to write to the Chairman on service levels by 28.03.13."),
    ("SDAG_3.01", "Product descriptions", "DECC agreed to issue product descriptions to SDAG Members when they had "
     "been completed", "colin.sawyer", "tbc", "ongoing", ""),
    ("SDAG_3.02", "GB security extensions", "DECC agreed to clarify the timetable and prepare the process for GB "
     "security extensions.", "decc.aa", "23.04.13", "ongoing", ""),
    ("SDAG_3.04", "Review of the master issues log", "All SDAG members were to review the master issues log and "
     "provide any comments to DECC prior to the next SDAG meeting", "ALL;decc.ph", "23.04.13", "ongoing",
     "26.03.13: It was agreed that the RAID issues that were closed would be sent to the originator to ensure the "
     "answer provided closed the original issue satisfactorily."),
    ("SDAG_3.05", "Security requirements concerns", "BEAMA agreed to send their concerns on the implications of the "
     "security requirements to DECC.", "beama.chris", "23.04.13", "ongoing",
     "26.03.13: This is currently being addressed by discussions between SSWG and DECC, these discussions have not "
     "yet concluded"),
    ("SDAG_4.02", "HHT Interface", "It was agreed that the description of the Hand Held Terminal interface would be "
     "sent to SDAG Members as soon as it was available for review.", "decc.jh", "23.04.13", "open", ""),
    ("SDAG_4.07", "Role Based Access Control", "The Events RBAC would be defined in the GB Comp Spec and feedback "
     "would be provided when available.", "decc.mb", "tbc", "closed_to_be_agreed", ""),
    ("SDAG_4.08", "Import/Export", "It was agreed that DECC would provide further detail on how the import/export "
     "supplies are managed.", "decc.mb", "23.04.13", "closed_to_be_agreed",
     "23.04.13: Electricity Export tariff and prices have been considered and excluded at the SMETS2 consultation "
     "and drafting stage (i.e. there is no functionality in SMETS to manage Export tariff/price on the meter) thus "
     "the UGC will not provide this capability. Should enhanced export functionality be included in specifications "
     "in future it will be incorporated into the UGC"),
    ("SDAG_4.09", "Documentation Road-map", "DECC agreed to prepare a documentation road-map (to be finalised when "
     "DSP delivery timescales are agreed) - this would include documents that will come from DCC and its service "
     "providers to allow DCC users to understand when key design documentation was to be issued.",
     "colin.sawyer", "tbc", "open", ""),
    ("SDAG_5.01", "Design Phase Milestones", "It was agreed that the design phase of the DSP and CSP would be "
     "discussed at a future SDAG meeting.", "colin.sawyer", "24.07.13", "open", ""),
    ("SDAG_5.02", "Parse and Correlate approach", "It was agreed that DECC would inform SDAG members on the agreed "
     "approach to procuring the Parse and Correlate software at the earliest opportunity.", "decc.jh", "23.04.13",
     "open", ""),
    ("SDAG_5.03", "Parse and Correlate requirements", "It was agreed that DECC would issue the requirements to SDAG "
     "members for review", "decc.jh", "23.04.13", "open", ""),
    ("SDAG_5.04", "SMETS2 (1st Iteration) Deferred items", "It was agreed that the list of deferred items from "
     "SMETS2 (1st Iteration) to SMETS2 (2nd Iteration) would be issued to SDAG members for review",
     "colin.sawyer", "23.04.13", "open", ""),
]

# kind, topic, title, originator, owner, likelihood, impact
RAID = [
    (RaidKind.ISSUE, "HAN", "HAN coverage: ZigBee 2.4 GHz will not reach every premises", "SUPA", "colin.sawyer",
     None, None),
    (RaidKind.RISK, "868 MHz development", "868 MHz solution not developed in time for DCC go-live", "BEAMA",
     "colin.sawyer", 4, 5),
    (RaidKind.RISK, "ALCS", "Auxiliary load control complexity causes cost or delay", "NPOWER", "kevin.house", 3, 4),
    (RaidKind.DEPENDENCY, "Parse and Correlate", "Parse and Correlate software procurement approach not agreed",
     "SUPB", "decc.jh", None, None),
    (RaidKind.ISSUE, "End-to-end component functionality",
     "Detail defining the functionality of each component of the end-to-end solution", "SUPC", "colin.sawyer",
     None, None),
    (RaidKind.RISK, "Wired HAN mandate", "Wired HAN mandate undecided for premises without wireless coverage",
     "DNOM", "colin.sawyer", 3, 5),
]

ARTEFACTS = [
    "GB Companion Specification", "CPA Security Scheme", "SMETS 2 (2)", "868 Technical Reqt Specification",
    "Wired HAN Approach", "CH Detailed Spec", "ICHI Specification", "CH Installation Support Materials",
    "Asset Register", "Service Mgmt Strategy", "Solution Architecture", "Configuration Items Catalogue",
    "Component Specs", "Interface Specs", "Error Handling Strategy", "Availability Plan", "Capacity Plan",
    "SMWAN CoCo", "DUGC CoCo",
]

PRODUCTS = [
    # name, content, version
    ("Target Operating Model", "Textual description of how the Smart Meter Scheme will be operated, once fully "
     "implemented", "2.0"),
    ("Business Processes (E2E)", "Business processes mapped as part of the process of developing the technical "
     "requirements prior to Licence and Contract Award. Developed in consultation with Industry through SDAG and "
     "other working groups", "2.1"),
    ("Technical Architecture (E2E)", "Baseline iteration at Licence Award, which will focus on the 'Logical View' - "
     "elaboration of component specifications and architectural mechanisms from the conceptual view providing a "
     "product-independent reference solution describing systems and interconnections. An Application model, an "
     "Information model and a Technology model.", "0.4"),
    ("Security Architecture (E2E)", "Describe the security controls that will be used to secure smart metering and "
     "how those controls are applied to the technical components that make up the Smart Metering Implementation",
     "2.07"),
    ("Security Architecture 'Trust Models' (E2E)", "The derived trust models define, against an abstracted and "
     "generic smart metering architecture, and for a particular process/activity, the relationships between "
     "entities where there are requirements for confidentiality, integrity and/or authenticity and the resultant "
     "assumptions and consequences for any system design.", "0.9"),
]

# Distribution of the artefacts (section 2): name -> (version, planned, actual, state, gated by ISFT)
DISTRIBUTION = {
    "GB Companion Specification": [("0.1 use cases", D(2013, 3, 29), D(2013, 4, 12),
                                    DistributionState.ISSUED_FOR_COMMENT, False),
                                   ("1.0 first draft", D(2013, 7, 31), None, DistributionState.DRAFTING, False)],
    "CPA Security Scheme": [("0.3", D(2013, 4, 30), None, DistributionState.IN_WORKSHOP, False)],
    "Solution Architecture": [("1.0", D(2013, 4, 5), D(2013, 4, 19), DistributionState.BASELINED, True)],
    "Interface Specs": [("1.0", D(2013, 4, 5), D(2013, 4, 5), DistributionState.BASELINED, True)],
    "SMETS 2 (2)": [("B draft", D(2013, 7, 31), None, DistributionState.DRAFTING, False)],
    "Error Handling Strategy": [("1.0", D(2013, 4, 12), D(2013, 4, 12), DistributionState.BASELINED, True)],
}

PPMID_THEMES = [
    # theme, count, sample comments (cycled)
    ("Clarification and scope of PPMID", 58, [
        "What is the scope of the PPMID and when should it be provided?",
        "Clarify supplier responsibility for providing the PPMID.",
        "Is the PPMID mandatory for every prepayment customer?"]),
    ("Power supply requirements", 22, [
        "Specify the power supply requirements (mains adaptor or battery).",
        "Clarify whether the PPMID may draw power from the communications hub."]),
    ("Battery life", 19, [
        "Remove the battery requirement.", "Clarify the required battery life."]),
    ("Overlap with IHD requirements", 37, [
        "Remove items that are shown on the IHD but not the meter.",
        "Align PPMID display requirements with the IHD specification."]),
    ("Gas enable", 29, [
        "Add gas enable functionality.", "Do not add gas enable functionality: safety concerns."]),
    ("User interface", 16, ["Specify the user interface.", "Leave the user interface to manufacturers."]),
    ("Clock", 12, ["Add a clock to the PPMID display."]),
]
COMMENTERS = ["SUPA", "SUPB", "SUPC", "NPOWER", "DNOM", "GTNL", "BEAMA"]


def _orgs():
    for code, name in EXTRA_ORGANISATIONS:
        if not Organisation.objects.filter(code=code).exists():
            portal_services.organisation_upsert(code=code, name=name, kind=OrganisationKind.OTHER)
    return {o.code: o for o in Organisation.objects.all()}


def _people(orgs):
    people = {}
    for username, first, last, initials, org in PEOPLE:
        people[username] = User.objects.filter(username=username).first() or portal_services.person_upsert(
            username=username, first_name=first, last_name=last, initials=initials, organisation=orgs[org],
            role=PortalRole.SDAG_MEMBER, email=f"{username}@example.org", password=None)
    return people


def _series(code, **fields):
    return models.MeetingSeries.objects.filter(code=code).first() or services.series_save(code=code, **fields)


def _meeting(series, number, **fields):
    return models.Meeting.objects.filter(series=series, number=number).first() or services.meeting_save(
        series=series, number=number, **fields)


def load(stdout=None):
    orgs = _orgs()
    people = _people(orgs)
    actor = User.objects.filter(username="admin").first()
    sdag = _series("sdag", name="SDAG (Smart metering Design Advisory Group)", kind=MeetingKind.BOARD,
                   action_prefix="SDAG", description="The SDAG board: design decisions, actions log and RAID.",
                   actor=actor)
    workshops = _series("sdag-workshops", name="SDAG workshops", kind=MeetingKind.WORKSHOP, action_prefix="WS",
                        description="Topic workshops announced at SDAG.", actor=actor)
    one_to_ones = _series("one-to-one", name="1:1 meetings", kind=MeetingKind.ONE_TO_ONE, action_prefix="OTO",
                          description="The offer of 1:1 meetings remains open.", actor=actor)
    venue = "BIS Conference Centre"  # assumed for #6; stated for #7
    m5 = _meeting(sdag, 5, title="SDAG meeting #5", kind=MeetingKind.BOARD, date=D(2013, 3, 26), start=T(10),
                  end=T(15), venue=venue, actor=actor)  # assumed: the due date of its actions
    m6 = _meeting(sdag, 6, title="SDAG meeting #6", kind=MeetingKind.BOARD, date=D(2013, 4, 23), start=T(10),
                  end=T(15), venue=venue, attendees=[people[u] for u in ("colin.sawyer", "peter.morgan",
                                                                          "kevin.house", "dominic.gibbeson",
                                                                          "seamus.gallagher")],
                  organisations=[orgs[c] for c in ("DECC", "BEAMA", "NPOWER", "ENA", "SUPA", "SUPB")],
                  actor=actor)
    _meeting(sdag, 7, title="SDAG meeting #7", kind=MeetingKind.BOARD, date=D(2013, 5, 28), start=T(10), end=T(15),
             venue=venue, actor=actor)
    for number, (title, date) in enumerate([("Install and Commission, and CoS workshop", D(2013, 5, 15)),
                                            ("Service Management workshop", D(2013, 5, 22)),
                                            ("Firmware Management workshop", D(2013, 5, 29))], start=1):
        _meeting(workshops, number, title=title, kind=MeetingKind.WORKSHOP, date=date, start=T(10), end=T(15),
                 venue="tbc", actor=actor)
    _meeting(one_to_ones, 1, title="1:1 with Npower: EED 24 months requirement", kind=MeetingKind.ONE_TO_ONE,
             date=D(2013, 5, 8), start=T(14), end=T(15), venue="DECC, 3 Whitehall Place",
             organisations=[orgs["NPOWER"]], actor=actor)  # assumed: the AOB's offer taken up

    topics = {name: services.topic_get_or_create(name=name, actor=actor) for _, name, *_ in RAID}
    raid_items = []
    for kind, topic, title, originator, owner, likelihood, impact in RAID:
        item = models.RaidItem.objects.filter(title=title).first() or services.raid_save(
            kind=kind, topic=topics[topic], title=title, originator=orgs[originator], owner=people[owner],
            likelihood=likelihood, impact=impact, actor=actor)
        raid_items.append(item)
    closed = models.RaidItem.objects.filter(title="Export tariff functionality in the User Gateway").first()
    if closed is None:
        closed = services.raid_save(kind=RaidKind.ISSUE, topic=services.topic_get_or_create(name="Import/Export"),
                                    title="Export tariff functionality in the User Gateway", originator=orgs["SUPA"],
                                    owner=people["decc.mb"], actor=actor)
        # SDAG_3.04: a closed item goes back to its originator to confirm.
        services.raid_close(item=closed, resolution="Export tariff and prices excluded at SMETS2; the UGC will not "
                                                    "provide this capability (SDAG_4.08).", actor=actor)

    isft = models.Milestone.objects.filter(name="ISFT release").first() or services.milestone_save(
        name="ISFT release", planned=D(2013, 5, 31), actor=actor,
        description="'Green' docs will be circulated to SDAG following release of ISFT.")
    documents = {}
    for name in ARTEFACTS:
        documents[name] = models.Document.objects.filter(name=name).first() or services.document_save(
            name=name, category=DocumentCategory.ARTEFACT, group="Architecture artefacts - design documents",
            owner=orgs["DECC"], actor=actor)
    for name, content, version in PRODUCTS:
        document = models.Document.objects.filter(name=name).first() or services.document_save(
            name=name, category=DocumentCategory.PRODUCT, group="A- Arch E2E", content=content, owner=orgs["DECC"],
            actor=actor)
        documents[name] = document
        if not document.versions.filter(version=version).exists():
            services.version_save(document=document, version=version, planned_issue=D(2013, 4, 18),
                                  actual_issue=D(2013, 4, 18), state=DistributionState.BASELINED,
                                  notes="Updated product list circulated to SDAG on 18/4/13", actor=actor)
    for name, versions in DISTRIBUTION.items():
        for version, planned, actual, state, gated in versions:
            if not models.DocumentVersion.objects.filter(document=documents[name], version=version).exists():
                services.version_save(document=documents[name], version=version, planned_issue=planned,
                                      actual_issue=actual, state=state, gating_milestone=isft if gated else None,
                                      actor=actor)
    ppmid_doc = models.Document.objects.filter(name="PPMID Technical Specification").first() or services.document_save(
        name="PPMID Technical Specification", category=DocumentCategory.ARTEFACT, group="SMETS", owner=orgs["DECC"],
        actor=actor)
    ppmid_version = models.DocumentVersion.objects.filter(document=ppmid_doc, version="0.9").first() or \
        services.version_save(document=ppmid_doc, version="0.9", planned_issue=D(2013, 2, 15),
                              actual_issue=D(2013, 2, 22), state=DistributionState.COMMENTS_UNDER_REVIEW, actor=actor)
    pandc = models.Document.objects.filter(name="Parse and Correlate requirements").first() or services.document_save(
        name="Parse and Correlate requirements", category=DocumentCategory.ARTEFACT, group="DCC systems",
        owner=orgs["DECC"], actor=actor)
    if not pandc.versions.exists():
        services.version_save(document=pandc, version="0.1", planned_issue=D(2013, 5, 31),
                              state=DistributionState.DRAFTING, notes="Expect to issue for comment in May",
                              actor=actor)

    ppmid = models.Consultation.objects.filter(title="PPMID Technical Specification consultation").first() or \
        services.consultation_save(version=ppmid_version, title="PPMID Technical Specification consultation",
                                   opens=D(2013, 2, 22), closes=D(2013, 3, 22), actor=actor,
                                   summary="193 comments received - main themes. Summary of findings presented at "
                                           "SDAG #6 by Peter Morgan.")
    if not ppmid.comments.exists():
        rows, orgs_cycle = [], itertools.cycle(COMMENTERS)
        dispositions = itertools.cycle([Disposition.NOTED, Disposition.ACCEPTED, Disposition.PENDING,
                                        Disposition.DEFERRED, Disposition.REJECTED])
        for theme, count, samples in PPMID_THEMES:
            for i in range(count):
                rows.append({"organisation": orgs[next(orgs_cycle)], "theme": theme,
                             "text": samples[i % len(samples)], "disposition": next(dispositions)})
        services.comment_add_bulk_for_demo(consultation=ppmid, rows=rows, actor=actor)
    if not models.Consultation.objects.filter(title__startswith="Energy Efficiency Directive").exists():
        services.consultation_save(title="Energy Efficiency Directive: 24 months of consumption data",
                                   opens=D(2012, 12, 12), closes=D(2013, 2, 6), actor=actor,
                                   summary="Whether daily reads should be added to SMETS 2 and how suppliers "
                                           "should give consumers access to the data. Closed on 6 February.")

    _agenda(m6, people, raid_items, documents, ppmid, actor)
    _actions(m5, actor)
    _this_month(sdag, people, ppmid_doc, actor)
    if stdout:
        stdout.write("workshops: SDAG #6 agenda, 15 actions, 7 RAID items, 27 documents, PPMID consultation "
                     "(193 comments), May workshops and SDAG #7")


def _agenda(meeting, people, raid_items, documents, ppmid, actor):
    if meeting.agenda_items.exists():
        return
    links = {2: {"raid_items": raid_items}, 3: {"consultations": [ppmid]},
             4: {"documents": [documents["GB Companion Specification"]]},
             5: {"raid_items": [r for r in raid_items if r.topic.name == "ALCS"]},
             7: {"documents": [documents["ICHI Specification"]]}}
    for position, start, end, title, presenters in AGENDA:
        item = services.agenda_item_save(meeting=meeting, position=position, start=start, end=end, title=title,
                                         presenters=[people[p] for p in presenters], actor=actor,
                                         **links.get(position, {}))
        for kind, text in OUTCOMES.get(position, []):
            services.agenda_outcome_add(agenda_item=item, kind=kind, text=text, actor=actor)
    assert models.AgendaItem.objects.filter(meeting=meeting).count() == len(AGENDA)


def _actions(meeting5, actor):
    rows = [importers.COLUMNS] + [list(row) for row in ACTIONS]
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    preview = importers.run(buffer.getvalue().encode(), filename="seed-actions.csv", commit=True, actor=actor)
    if not preview.committed:
        raise RuntimeError(f"seed actions did not import: {[(r.row, r.error) for r in preview.results if r.error]}")
    # SDAG_2.11 was marked Complete at #5 and re-opened at #6: record that history once.
    from workshops.models import Action

    billing = Action.objects.get(reference="SDAG_2.11")
    if not billing.updates.exclude(status_to="").exists():
        services.action_set_status(action=billing, status=ActionStatus.CLOSED, actor=actor, date=D(2013, 3, 26))
        services.action_set_status(action=billing, status=ActionStatus.OPEN, actor=actor, date=D(2013, 4, 23),
                                   note="DECC to respond to the information provided by AC")
    # Actions SDAG_5.xx were linked to meeting #5 by the import, which moved its counter past them.


def _this_month(sdag, people, ppmid_doc, actor):
    """The seed is a 2013 pack: so that the dashboards have something current to show, the demo adds
    the board's next meeting four weeks from today, an open consultation that closes within the week
    and an action that fell overdue yesterday. Idempotent by title."""
    from django.utils import timezone

    today = timezone.localdate()
    upcoming = models.Meeting.objects.filter(series=sdag, title="SDAG meeting (demo: next board)").first()
    if upcoming is None:
        number = (models.Meeting.objects.filter(series=sdag).order_by("-number").values_list("number", flat=True)
                  .first() or 0) + 1
        upcoming = services.meeting_save(series=sdag, number=number, title="SDAG meeting (demo: next board)",
                                         kind=MeetingKind.BOARD, date=today + dt.timedelta(days=28), start=T(10),
                                         end=T(15), venue="BIS Conference Centre", actor=actor)
    if not upcoming.actions.exists():
        services.action_raise(meeting=upcoming, title="Circulate the PPMID comment dispositions", actor=actor,
                              text="Demo: fell overdue yesterday.", owners=[people["peter.morgan"]],
                              due=today - dt.timedelta(days=1))
    if not models.Consultation.objects.filter(title="Re-issued PPMID specification v1.0 (demo: open now)").exists():
        version = models.DocumentVersion.objects.filter(document=ppmid_doc, version="1.0").first()
        version = version or services.version_save(
            document=ppmid_doc, version="1.0", planned_issue=today - dt.timedelta(days=20),
            actual_issue=today - dt.timedelta(days=18), state=DistributionState.ISSUED_FOR_COMMENT, actor=actor)
        services.consultation_save(version=version, title="Re-issued PPMID specification v1.0 (demo: open now)",
                                   opens=today - dt.timedelta(days=18), closes=today + dt.timedelta(days=5),
                                   summary="Demo: the re-issued PPMID specification, open for comment this week.",
                                   actor=actor)

