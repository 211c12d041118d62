"""The directory: organisations and the people who belong to them.

The models of notifications and watches, webhooks and saved filters are in portal/notifications/,
portal/webhooks/ and portal/savedfilters/; burn-rate rules and episodes belong to slas."""
import datetime as dt

from auditlog.registry import auditlog
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

# The cross-cutting features' models live in their own rooms and keep app_label "portal" (their
# tables are portal_*); Django imports only portal.models, so importing them here registers them.
from portal import access
from portal.choices import OrganisationKind, PortalRole, ProviderCode, Region, SignInOutcome
from portal.lists import models as _lists  # noqa: F401
from portal.notifications import models as _notifications  # noqa: F401
from portal.savedfilters import models as _savedfilters  # noqa: F401
from portal.scoping import Domain, ScopeRule
from portal.webhooks import models as _webhooks  # noqa: F401


class Organisation(models.Model):
    """A party of the smart metering network: DCC, one of its service providers (DSP, a CSP
    region), a service user (supplier, network operator, other user) or a body such as DECC.
    A service user acts in one or more DUIS user roles and is named on the network by an EUI-64."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="")

    code = models.SlugField(max_length=32, unique=True, help_text="Short code used in files and JSON, e.g. SUPA")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    provider_code = models.CharField(max_length=20, choices=ProviderCode.choices, blank=True)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    duis_roles = models.JSONField(default=list, blank=True, help_text="DUIS user roles, e.g. [\"IS\", \"GS\"]")
    user_id = models.CharField(
        "DUIS user id (EUI-64)", max_length=23, blank=True, help_text="Canonical EUI-64, e.g. 90-B3-D5-1F-30-01-00-00"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id"], condition=~models.Q(user_id=""), name="organisation_user_id_unique"
            ),
            models.UniqueConstraint(
                fields=["provider_code"], condition=~models.Q(provider_code=""), name="organisation_provider_unique"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_service_user(self):
        return self.kind == OrganisationKind.SERVICE_USER

    @property
    def is_dcc(self):
        """DCC itself (a question about the organisation; ``User.is_dcc`` asks about a person)."""
        return access.is_dcc_organisation(self)


class User(AbstractUser):
    """A person with (or without) a login. People belong to one organisation; their portal
    role decides what they may see and do (portal.scoping). Action owners are people too,
    whether or not they ever log in."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="organisation")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    role = models.CharField(max_length=20, choices=PortalRole.choices, default=PortalRole.SERVICE_USER)
    initials = models.CharField(max_length=8, blank=True, help_text="As used in the action log, e.g. JH")

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    # The role predicates; portal.access defines each once (templates read them as user.is_dcc).
    is_dcc = property(access.is_dcc)
    is_dcc_admin = property(access.is_dcc_admin)
    is_service_user = property(access.is_service_user)
    is_sdag_member = property(access.is_sdag_member)
    is_org_admin = property(access.is_org_admin)


auditlog.register(Organisation)
auditlog.register(User, exclude_fields=["password", "last_login"])


class StatusChange(models.Model):
    """One change of a record's status: from what, to what, why, by whom and when. The history of
    each record with a status an app keeps (a device, a service component) is a subclass that
    declares ``from_status`` and ``to_status`` with its own choices and the record they belong to."""

    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey("portal.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["-changed_at", "-id"]

    def transition(self) -> str:
        """``from -> to``; a record's first row (no ``from_status``) reads ``- -> to``."""
        return f"{self.from_status or '-'} -> {self.to_status}"  # type: ignore[attr-defined]


class FeedToken(models.Model):
    """A person's calendar-feed token: what a calendar program sends as ``?token=`` to read that
    person's feeds (meeting series, maintenance) with their rights. It opens those feeds and nothing
    else (not the API, not a page), so a feed URL pasted into a shared calendar cannot act for anyone.
    Only its SHA-256 ``digest`` is kept: the token is shown once, when issued; revoking deletes it."""

    user = models.OneToOneField("portal.User", on_delete=models.CASCADE, related_name="feed_token")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 (hex) of the token")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"feed token of {self.user_id}"


class ApiToken(models.Model):
    """One API token of a person: what a program sends as ``Authorization: Token <token>`` to act with
    that person's rights. Only the SHA-256 ``digest`` of the token (a 256-bit random secret) is kept: the
    token is shown once, when issued, and cannot be shown again; ``prefix`` (its first characters) lets
    the person tell their tokens apart. A ``read_only`` token may only read (GET, HEAD, OPTIONS); after
    ``expires_at`` it answers 401. Tokens issued before hashing were carried over by their digest (they
    keep working, but nobody can see them again). Revoking deletes the row."""

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="what the person uses it for")
    prefix = models.CharField(max_length=12, help_text="the token's first characters, to recognise it")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 (hex) of the token")
    read_only = models.BooleanField(default=False, help_text="only safe methods (GET, HEAD, OPTIONS)")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="empty: never expires")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of {self.user_id}"

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class IdempotencyRecord(models.Model):
    """One POST sent with an Idempotency-Key (portal.idempotency): kept 24 h per user so a repeat of
    the same request answers the first answer. ``status_code`` is empty while the first is in flight;
    ``body`` is empty when the answer was too large to keep. Keys are per user: one user can never
    replay another's answer."""

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


class SignIn(models.Model):
    """One attempt to sign in, kept so that a person can see where their account was used (and
    tried) and DCC administrators can read the whole record: a successful sign-in (page, single
    sign-on) or a failure (a wrong password, an unknown or inactive username, on a page or the
    API's token exchange). ``username`` is what was typed; ``user`` is the person it names, when
    it names one, so a person sees the failures against their own username too. Addresses and user
    agents are as the request gave them (``address`` is the client address the portal trusts)."""

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="sign_ins")
    username = models.CharField(max_length=150, blank=True)
    outcome = models.CharField(max_length=10, choices=SignInOutcome.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=20, blank=True, help_text="password, api_token or sso")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="signin_user_at")]

    def __str__(self) -> str:
        return f"{self.username} {self.outcome} {self.at:%Y-%m-%d %H:%M}"
