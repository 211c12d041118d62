"""An organisation's own administrator manages its people (issue 18): invite by e-mail with a
one-time expiring link, deactivate and reactivate, change role up to its own, reset MFA, see the
last sign-in; only its own organisation's people, never DCC's, never above its own role; every
change in the audit trail."""
import re
from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import access, services
from portal.choices import PortalRole
from portal.models import User
from tests.conftest import _person
from tests.mfa import verified_login


@pytest.fixture
def org_admin(orgs):
    return _person("annie", orgs["SUPA"], PortalRole.ORG_ADMIN)


def _trail(person):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_pk=str(person.pk))


def _invite_link():
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/accounts/invite/\S+/)", body).group(1)


def test_org_admin_is_a_service_user_with_the_people_capability(org_admin, supplier_a, dcc_admin):
    assert access.is_service_user(org_admin) and access.is_org_admin(org_admin)
    assert access.may(org_admin, "portal.user.manage_people")
    assert not access.may(supplier_a, "portal.user.manage_people")
    # DCC administrators manage people in the admin site; this page is the organisation's own.
    assert not access.may(dcc_admin, "portal.user.manage_people")
    assert set(access.people("org_admin")) == {org_admin}
    assert org_admin in access.people("service_user")


def test_invite_sends_a_one_time_link_that_sets_the_password(org_admin, orgs):
    client = Client()
    verified_login(client, org_admin)
    response = client.post(reverse("people"), {"email": "New.Person@Albion.example", "first_name": "New",
                                               "last_name": "Person", "role": PortalRole.SERVICE_USER})
    assert response.status_code == 302
    person = User.objects.get(username="new.person@albion.example")
    assert person.organisation == orgs["SUPA"] and person.role == PortalRole.SERVICE_USER
    assert not person.has_usable_password()
    assert mail.outbox[-1].to == ["new.person@albion.example"]
    assert _trail(person).filter(action=LogEntry.Action.CREATE, actor=org_admin).exists()

    link = _invite_link()
    anonymous = Client()
    assert anonymous.get(link).status_code == 200
    response = anonymous.post(link, {"new_password1": "a-fresh-long-pass-42", "new_password2": "a-fresh-long-pass-42"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("a-fresh-long-pass-42")
    # One time: the link no longer works once used.
    assert anonymous.get(link).status_code == 403
    assert anonymous.post(link, {"new_password1": "another-long-pass-43",
                                 "new_password2": "another-long-pass-43"}).status_code == 403
    person.refresh_from_db()
    assert person.check_password("a-fresh-long-pass-42")
    assert anonymous.post(reverse("login"), {"username": person.username,
                                             "password": "a-fresh-long-pass-42"}).status_code == 302


def test_the_invitation_link_expires(org_admin, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    services.person_invite(actor=org_admin, email="late@albion.example", first_name="Late", last_name="Comer",
                           role=PortalRole.SERVICE_USER)
    link = _invite_link()
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        assert Client().get(link).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert Client().get(link).status_code == 403


def test_a_tampered_or_foreign_link_is_refused(org_admin, supplier_b):
    services.person_invite(actor=org_admin, email="t@albion.example", first_name="T", last_name="T",
                           role=PortalRole.SERVICE_USER)
    link = _invite_link()
    prefix, uid, token, _ = link.rsplit("/", 3)
    assert Client().get(f"{prefix}/{uid}/{token[:-1]}x/").status_code == 403
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    other = urlsafe_base64_encode(force_bytes(supplier_b.pk))
    assert Client().get(f"{prefix}/{other}/{token}/").status_code == 403
    assert Client().get(f"{prefix}/!!!/{token}/").status_code == 403


def test_a_deactivated_invitee_cannot_use_the_link(org_admin):
    person = services.person_invite(actor=org_admin, email="d@albion.example", first_name="D", last_name="D",
                                    role=PortalRole.SERVICE_USER)
    link = _invite_link()
    services.person_set_active(actor=org_admin, person=person, active=False)
    assert Client().get(link).status_code == 403


def test_invite_refuses_bad_input_naming_the_field(org_admin, supplier_a):
    with pytest.raises(ValidationError) as bad_email:
        services.person_invite(actor=org_admin, email="not an email", first_name="A", last_name="B",
                               role=PortalRole.SERVICE_USER)
    assert "email" in bad_email.value.message_dict
    with pytest.raises(ValidationError) as taken:
        services.person_invite(actor=org_admin, email="ALICE@example.org", first_name="A", last_name="B",
                               role=PortalRole.SERVICE_USER)
    assert "email" in taken.value.message_dict
    for role in (PortalRole.DCC_OPERATIONS, PortalRole.DCC_ADMIN, "superuser", ""):
        with pytest.raises(ValidationError) as raised:
            services.person_invite(actor=org_admin, email=f"x{role}@albion.example", first_name="A", last_name="B",
                                   role=role)
        assert "role" in raised.value.message_dict
    # Through the page: the form offers only the roles one may give, and says which field is wrong.
    client = Client()
    verified_login(client, org_admin)
    page = client.get(reverse("people")).content.decode()
    assert 'value="dcc_admin"' not in page and 'value="dcc_operations"' not in page
    response = client.post(reverse("people"), {"email": "y@albion.example", "first_name": "Y", "last_name": "Y",
                                               "role": PortalRole.DCC_ADMIN})
    assert response.status_code == 400
    assert not User.objects.filter(username="y@albion.example").exists()


def test_only_an_org_admin_invites(supplier_a, dcc_operator):
    for actor in (supplier_a, dcc_operator):
        with pytest.raises(PermissionDenied):
            services.person_invite(actor=actor, email="z@albion.example", first_name="Z", last_name="Z",
                                   role=PortalRole.SERVICE_USER)
    client = Client()
    verified_login(client, supplier_a)
    assert client.get(reverse("people")).status_code == 403


def test_deactivate_and_reactivate_are_audited_and_stop_sign_in(org_admin, supplier_a, api_for):
    client = Client()
    verified_login(client, org_admin)
    colleague = Client()
    verified_login(colleague, supplier_a)
    api = api_for(supplier_a)
    assert client.post(reverse("person_deactivate", args=[supplier_a.pk])).status_code == 302
    supplier_a.refresh_from_db()
    assert not supplier_a.is_active
    entry = _trail(supplier_a).filter(actor=org_admin).latest("timestamp")
    assert entry.changes_dict["is_active"] == ["True", "False"]
    # The session and the API token stop working at once; so does the password.
    assert colleague.get(reverse("home")).status_code == 302
    assert api.get("/api/v1/organisations/").status_code == 401
    assert Client().post(reverse("login"), {"username": "alice", "password": "test-password-123"}).status_code == 200

    assert client.post(reverse("person_reactivate", args=[supplier_a.pk])).status_code == 302
    supplier_a.refresh_from_db()
    assert supplier_a.is_active
    assert _trail(supplier_a).filter(actor=org_admin).count() == 2


def test_the_list_shows_role_active_and_last_sign_in(org_admin, supplier_a, supplier_b):
    supplier_a.last_login = timezone.now().replace(year=2026, month=3, day=4, hour=10, minute=5)
    supplier_a.save(update_fields=["last_login"])
    client = Client()
    verified_login(client, org_admin)
    page = client.get(reverse("people")).content.decode()
    assert "alice" in page and "Service user staff" in page and "4 Mar 2026" in page
    assert "bob" not in page  # another organisation's person is not listed
    assert reverse("person_deactivate", args=[supplier_a.pk]) in page
    assert reverse("person_deactivate", args=[org_admin.pk]) not in page  # not oneself
    assert reverse("audit_log") + f"?model=portal.user&amp;object_pk={supplier_a.pk}" in page


def test_isolation_other_organisations_dcc_self_and_higher_roles(org_admin, supplier_b, dcc_operator, dcc_admin,
                                                                  orgs):
    # Another organisation's people and DCC's are not found (404 on the page, refused in the service).
    client = Client()
    verified_login(client, org_admin)
    for person in (supplier_b, dcc_operator, dcc_admin):
        for name in ("person_deactivate", "person_reactivate", "person_role", "person_mfa_reset",
                     "person_invite_resend"):
            assert client.post(reverse(name, args=[person.pk]), {"role": "service_user"}).status_code == 404, name
        for call in (lambda p: services.person_set_active(actor=org_admin, person=p, active=False),
                     lambda p: services.person_role_set(actor=org_admin, person=p, new_role=PortalRole.SERVICE_USER),
                     lambda p: services.person_mfa_reset(actor=org_admin, person=p)):
            with pytest.raises(PermissionDenied):
                call(person)
        person.refresh_from_db()
        assert person.is_active
    # A DCC person filed under the supplier's organisation is still DCC's, and so is a superuser.
    dcc_inside = _person("inside", orgs["SUPA"], PortalRole.DCC_OPERATIONS)
    superuser_inside = _person("rooted", orgs["SUPA"], PortalRole.SERVICE_USER, is_superuser=True)
    for person in (dcc_inside, superuser_inside):
        with pytest.raises(PermissionDenied):
            services.person_set_active(actor=org_admin, person=person, active=False)
    # Not oneself: no locking one's organisation out, no raising one's own role.
    with pytest.raises(PermissionDenied):
        services.person_set_active(actor=org_admin, person=org_admin, active=False)
    with pytest.raises(PermissionDenied):
        services.person_role_set(actor=org_admin, person=org_admin, new_role=PortalRole.DCC_ADMIN)


def test_roles_up_to_ones_own_never_dcc(org_admin, supplier_a):
    for role in (PortalRole.DCC_OPERATIONS, PortalRole.DCC_ADMIN, "root"):
        with pytest.raises(ValidationError) as raised:
            services.person_role_set(actor=org_admin, person=supplier_a, new_role=role)
        assert "role" in raised.value.message_dict
    client = Client()
    verified_login(client, org_admin)
    client.post(reverse("person_role", args=[supplier_a.pk]), {"role": PortalRole.DCC_ADMIN})
    supplier_a.refresh_from_db()
    assert supplier_a.role == PortalRole.SERVICE_USER and not supplier_a.is_staff and not supplier_a.is_superuser
    # Up to one's own: another organisation administrator, and back.
    client.post(reverse("person_role", args=[supplier_a.pk]), {"role": PortalRole.ORG_ADMIN})
    supplier_a.refresh_from_db()
    assert supplier_a.role == PortalRole.ORG_ADMIN
    assert _trail(supplier_a).filter(actor=org_admin).latest("timestamp").changes_dict["role"] == [
        "service_user", "org_admin"]


def test_mfa_reset_hook_is_audited(org_admin, supplier_a):
    client = Client()
    verified_login(client, org_admin)
    assert client.post(reverse("person_mfa_reset", args=[supplier_a.pk])).status_code == 302
    entry = _trail(supplier_a).filter(actor=org_admin).latest("timestamp")
    assert entry.additional_data["mfa"] == "mfa_reset"


def test_invitation_can_be_sent_again_until_a_password_is_chosen(org_admin, supplier_a):
    person = services.person_invite(actor=org_admin, email="again@albion.example", first_name="A", last_name="G",
                                    role=PortalRole.SERVICE_USER)
    services.person_invite_resend(actor=org_admin, person=person)
    assert len(mail.outbox) == 2
    assert _trail(person).filter(actor=org_admin, action=LogEntry.Action.UPDATE).exists()
    with pytest.raises(ValidationError):
        services.person_invite_resend(actor=org_admin, person=supplier_a)  # has a password


def test_org_admin_reads_the_audit_trail_of_its_own_people_only(org_admin, supplier_a, supplier_b):
    services.person_set_active(actor=org_admin, person=supplier_a, active=False)
    client = Client()
    verified_login(client, org_admin)
    own = client.get(reverse("audit_log"), {"model": "portal.user", "object_pk": supplier_a.pk}).content.decode()
    assert "is_active" in own
    other = client.get(reverse("audit_log"), {"model": "portal.user", "object_pk": supplier_b.pk}).content.decode()
    assert "No changes recorded" in other


def test_the_api_manages_ones_own_people_only(org_admin, supplier_a, supplier_b, dcc_operator, api_for):
    api = api_for(org_admin)
    listed = api.get("/api/v1/people/managed/").json()
    assert {p["username"] for p in listed["results"]} == {"annie", "alice"}
    assert "last_login" in listed["results"][0] and "is_active" in listed["results"][0]
    response = api.post("/api/v1/people/invite/", {"email": "api@albion.example", "first_name": "Api",
                                                   "last_name": "Person", "role": "service_user"}, format="json")
    assert response.status_code == 201 and response.json()["invited"] is True
    assert mail.outbox[-1].to == ["api@albion.example"]
    bad = api.post("/api/v1/people/invite/", {"email": "x@albion.example", "first_name": "X", "last_name": "X",
                                              "role": "dcc_admin"}, format="json")
    assert bad.status_code == 400 and "role" in str(bad.json())
    assert api.post(f"/api/v1/people/{supplier_a.pk}/deactivate/").json()["is_active"] is False
    assert api.post(f"/api/v1/people/{supplier_a.pk}/reactivate/").json()["is_active"] is True
    assert api.post(f"/api/v1/people/{supplier_a.pk}/mfa-reset/").status_code == 200
    for other in (supplier_b, dcc_operator):
        for verb in ("deactivate", "reactivate", "mfa-reset"):
            assert api.post(f"/api/v1/people/{other.pk}/{verb}/").status_code == 404
    assert api.post(f"/api/v1/people/{org_admin.pk}/deactivate/").status_code == 403
    # A colleague who is no administrator may do none of it.
    colleague = api_for(supplier_a)
    assert colleague.get("/api/v1/people/managed/").status_code == 403
    assert colleague.post("/api/v1/people/invite/", {"email": "c@albion.example", "first_name": "C",
                                                     "last_name": "C", "role": "service_user"},
                          format="json").status_code == 403
    assert colleague.post(f"/api/v1/people/{org_admin.pk}/deactivate/").status_code == 403


def test_an_org_admin_role_in_dccs_own_organisation_manages_nobody(orgs, supplier_a):
    odd = _person("oddity", orgs["DCC"], PortalRole.ORG_ADMIN)
    assert not access.is_org_admin(odd) and odd not in access.people("org_admin")
    assert not access.may(odd, "portal.user.manage_people")


def test_an_address_that_cannot_be_a_username_is_refused_naming_email(org_admin):
    with pytest.raises(ValidationError) as raised:
        services.person_invite(actor=org_admin, email="o'brien@albion.example", first_name="O", last_name="B",
                               role=PortalRole.SERVICE_USER)
    assert "email" in raised.value.message_dict and not User.objects.filter(email__startswith="o'brien").exists()
