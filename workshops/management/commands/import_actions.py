"""manage.py import_actions FILE [--commit]: preview (one line per row) and, with --commit, write."""
from portal.imports import ImportCommand


class Command(ImportCommand):
    help = "Import the actions log from CSV or XLSX (reference,title,text,owners,due,status,updates)."
    importer = "workshops.importers.run"
