"""The document roadmap's list as a register table (portal.lists): sorted, columns chosen,
the current view exported."""
import csv
import io

from portal.lists import services as list_services
from workshops import services

URL = "/workshops/documents/"


def test_document_list_sorts_chooses_columns_and_exports(orgs, dcc_operator, client_for):
    for name, group in (("Beta spec", "B- Security"), ("Alpha spec", "A- Arch E2E"), ("Gamma", "C- Test")):
        services.document_save(name=name, group=group, owner=orgs["DECC"], content="=HYPERLINK(1)",
                               actor=dcc_operator)
    client = client_for(dcc_operator)
    response = client.get(URL)
    assert [d.name for d in response.context["page"].object_list] == ["Alpha spec", "Beta spec", "Gamma"]
    assert "<strong>3</strong> results" in response.content.decode() and "Clear filters" in response.content.decode()
    assert [d.name for d in client.get(URL, {"sort": "-name_"}).context["page"].object_list] == [
        "Gamma", "Beta spec", "Alpha spec"]
    list_services.list_columns_set(user=dcc_operator, table="workshops.documents", columns=["content", "bogus"])
    body = client.get(URL).content.decode()
    assert 'data-column="group"' not in body and 'data-column="content"' in body
    rows = list(csv.reader(io.StringIO(client.get(URL, {"export": "csv", "sort": "-name_"})
                                       .getvalue().decode("utf-8-sig"))))
    assert rows[0] == ["Product name", "Content"]
    assert [r[0] for r in rows[1:]] == ["Gamma", "Beta spec", "Alpha spec"]
    assert rows[1][1].startswith("'=")  # formulas neutralised


def test_raid_list_newest_first_sorts_by_score_and_exports(orgs, dcc_operator, client_for):
    from workshops.choices import RaidKind

    topic = services.topic_get_or_create(name="HAN", actor=dcc_operator)
    made = [services.raid_save(kind=RaidKind.RISK, topic=topic, title=f"Risk {n}", originator=orgs["DECC"],
                               likelihood=n, impact=2, actor=dcc_operator) for n in (2, 5, 1)]
    client = client_for(dcc_operator)
    response = client.get("/workshops/raid/")
    assert [i.pk for i in response.context["page"].object_list] == [m.pk for m in reversed(made)]
    by_score = client.get("/workshops/raid/", {"sort": "-score"}).context["page"].object_list
    assert [i.title for i in by_score] == ["Risk 5", "Risk 2", "Risk 1"]
    rows = list(csv.reader(io.StringIO(client.get("/workshops/raid/", {"export": "csv", "sort": "score"})
                                       .getvalue().decode("utf-8-sig"))))
    assert rows[0][0] == "Ref" and [r[3] for r in rows[1:]] == ["Risk 1", "Risk 2", "Risk 5"]


def test_consultation_list_latest_first_sorts_and_exports(orgs, dcc_operator, client_for):
    import datetime as dt

    start = dt.date(2026, 1, 5)
    for n, title in enumerate(("First", "Second", "Third")):
        services.consultation_save(title=title, opens=start + dt.timedelta(days=7 * n),
                                   closes=start + dt.timedelta(days=7 * n + 28), actor=dcc_operator)
    client = client_for(dcc_operator)
    url = "/workshops/consultations/"
    assert [c.title for c in client.get(url).context["page"].object_list] == ["Third", "Second", "First"]
    assert [c.title for c in client.get(url, {"sort": "title"}).context["page"].object_list] == [
        "First", "Second", "Third"]
    rows = list(csv.reader(io.StringIO(client.get(url, {"export": "csv", "sort": "opens"})
                                       .getvalue().decode("utf-8-sig"))))
    assert rows[0] == ["Consultation", "Document version", "Opens", "Closes", "State"]
    assert [r[0] for r in rows[1:]] == ["First", "Second", "Third"] and rows[1][2] == "2026-01-05"
