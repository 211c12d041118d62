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
