"""The columns a person chose to see in one register's table."""
from django.db import models

from portal.scoping import Domain, ScopeRule


class ListPreference(models.Model):
    """One person's choice of columns for one table (``portal.lists.tables.Table.name``): the
    list pages show these columns, in the table's own order, until the person chooses again."""

    scope_rule = ScopeRule(Domain.DIRECTORY, org_path="user__organisation")

    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="list_preferences")
    table = models.CharField(max_length=60, help_text='the table\'s name, e.g. "inventory.devices"')
    columns = models.JSONField(default=list, help_text="names of the columns shown")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "table"], name="list_preference_unique")]

    def __str__(self):
        return f"{self.user} {self.table}"
