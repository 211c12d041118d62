"""manage.py import_devices FILE [--commit]: one line per row (row, device id, ok or the error)."""
from portal.imports import ImportCommand


class Command(ImportCommand):
    help = ("Check (and with --commit write) a CSV/XLSX of devices: columns device_id, device_type, manufacturer, "
            "model, firmware_version, status, supplier, mpxn, region, hub_id. Exit status 0 only for a clean file.")
    importer = "inventory.importers.run"
