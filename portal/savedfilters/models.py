"""Saved filters: a person's named querystrings for one list page."""
from django.db import models

from portal.scoping import Domain, ScopeRule


class SavedFilter(models.Model):
    """A person's named set of filters on one list page (its url name and querystring)."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="saved_filters")
    page = models.CharField(max_length=100, help_text='URL name of the list page, e.g. "adapter:request_list"')
    name = models.CharField(max_length=80)
    querystring = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "name"]
        constraints = [models.UniqueConstraint(fields=["user", "page", "name"], name="saved_filter_name_unique")]

    def __str__(self):
        return f"{self.name} ({self.page})"
