"""manage.py slas_import_charges FILE [--commit]: monthly charges (columns month,party,amount)."""
from portal.imports import ImportCommand


class Command(ImportCommand):
    help = ("Import monthly charges: month (YYYY-MM), party (a provider code or a service user's organisation "
            "code), amount (pounds). Add --commit to write; nothing is written while any row has an error.")
    importer = "slas.services.charges_import"
