"""Governance objects for the isolation sweep: suppliers must see none of them, whoever owns them."""
import datetime as dt

from workshops import services
from workshops.choices import OutcomeKind, RaidKind
from workshops.models import Comment, Milestone


def owned_objects(organisation, person):
    from portal.models import User

    actor = User.objects.filter(is_superuser=True).first()
    marker = f"GOV-{organisation.code}"
    series = services.series_save(code=f"iso-{organisation.code.lower()}", name=f"{marker} series",
                                  action_prefix=f"ISO{organisation.code}", actor=actor)
    meeting = services.meeting_save(series=series, number=1, title=f"{marker} meeting", date=dt.date(2013, 4, 23),
                                    start=dt.time(10), end=dt.time(15), venue=f"{marker} venue", actor=actor)
    item = services.agenda_item_save(meeting=meeting, title=f"{marker} agenda item", actor=actor)
    outcome = services.agenda_outcome_add(agenda_item=item, kind=OutcomeKind.DECISION, text=f"{marker} decision",
                                          actor=actor)
    action = services.action_raise(meeting=meeting, agenda_item=item, title=f"{marker} action", owners=[person],
                                   due=dt.date(2013, 5, 1), actor=actor)
    update = services.action_update(action=action, text=f"{marker} action update", actor=actor)
    topic = services.topic_save(name=f"{marker} topic", actor=actor)
    raid = services.raid_save(kind=RaidKind.RISK, topic=topic, title=f"{marker} risk", originator=organisation,
                              likelihood=3, impact=4, actor=actor)
    document = services.document_save(name=f"{marker} document", owner=organisation, group="A- Arch E2E",
                                      actor=actor)
    milestone = Milestone.objects.create(name=f"{marker} milestone", planned=dt.date(2013, 6, 1))
    version = services.version_save(document=document, version="9.99", planned_issue=dt.date(2013, 5, 1),
                                    notes=f"{marker} version", gating_milestone=milestone, actor=actor)
    consultation = services.consultation_save(version=version, title=f"{marker} consultation",
                                              opens=dt.date(2013, 4, 1), closes=dt.date(2099, 1, 1), actor=actor)
    comment = Comment.objects.create(consultation=consultation, organisation=organisation, theme=f"{marker} theme",
                                     text=f"{marker} comment")
    return [(series, f"{marker} series"), (meeting, f"{marker} meeting"), (item, f"{marker} agenda item"),
            (outcome, f"{marker} decision"), (action, f"{marker} action"), (update, f"{marker} action update"),
            (topic, f"{marker} topic"), (raid, f"{marker} risk"), (document, f"{marker} document"),
            (milestone, f"{marker} milestone"), (version, f"{marker} version"),
            (consultation, f"{marker} consultation"), (comment, f"{marker} comment")]
