"""manage.py duis render|parse|keys|certificate|verify: the DUIS codec and message signatures on
their own.

* ``render REQUEST_ID``: exactly the signed XML the ``duis`` backend would send for that request.
* ``parse FILE``: a DUIS document as JSON (signature not checked).
* ``keys``: test keys and self-signed certificates in the key store for DCC's DUIS user ids, the
  service users that delegated message signing and the head-end, recorded as approved
  Certificates (demos and tests; existing keys are kept).
* ``certificate EUI64``: the PEM certificate that signs for that identity (from the key store).
* ``verify FILE``: check a signed DUIS document against the registered certificates; exit 1 when
  the signature does not hold.
"""
import json

from django.core.management.base import BaseCommand, CommandError

from adapter import duis


class Command(BaseCommand):
    help = "Render (signed), parse or verify DUIS documents; make and show the key store's test keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        render = sub.add_parser("render", help="print the signed DUIS XML of a stored request, as it would be sent")
        render.add_argument("request_id")
        parse = sub.add_parser("parse", help="print a DUIS document as JSON")
        parse.add_argument("file")
        keys = sub.add_parser("keys", help="make test keys + certificates for the identities the portal signs for")
        keys.add_argument("--quiet", action="store_true")
        certificate = sub.add_parser("certificate", help="print the PEM certificate that signs for an EUI-64")
        certificate.add_argument("eui64")
        verify = sub.add_parser("verify", help="check the signature of a DUIS document (exit 1 if it fails)")
        verify.add_argument("file")

    def handle(self, *args, verb, **options):
        getattr(self, f"do_{verb}")(**options)

    def do_render(self, request_id, **options):
        from adapter.backends import DuisBackend, SignatureRefused
        from adapter.models import ServiceRequest

        request = ServiceRequest.objects.select_related("srv").filter(request_id=request_id).first()
        if request is None:
            raise CommandError(f"no service request {request_id!r}")
        try:
            data = DuisBackend(url="http://unused.invalid/").render(request)
        except SignatureRefused as exc:
            raise CommandError(str(exc)) from None
        # the signed bytes as they go on the wire (UTF-8, printed without an added newline)
        self.stdout.write(data.decode("utf-8"), ending="")

    def _read(self, path):
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None

    def do_parse(self, file, **options):
        try:
            parsed = duis.parse(self._read(file))
        except duis.DuisError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(parsed, indent=2))

    def do_keys(self, quiet=False, **options):
        from adapter import services
        from adapter.keystore import get_keystore

        store = get_keystore()
        for eui64, organisation, usage in services.keystore_identities():
            made = not store.has(eui64)
            info = store.create(eui64, name=str(organisation or "DCC head-end")[:60]) if made \
                else store.certificate(eui64)
            services.keystore_certificate_register(info=info, organisation=organisation, usage=usage)
            if not quiet:
                self.stdout.write(f"{eui64} {usage} {'made' if made else 'kept'} serial {info.serial} "
                                  f"({organisation or 'head-end'}) in the {store.name} key store")

    def do_certificate(self, eui64, **options):
        from adapter.keystore import KeyStoreError, get_keystore
        from portal.ids import is_eui64, normalise_eui64

        if not is_eui64(eui64):
            raise CommandError(f"eui64: {eui64!r} is not an EUI-64 (e.g. 90-B3-D5-1F-30-00-00-00)")
        try:
            self.stdout.write(get_keystore().certificate(normalise_eui64(eui64)).pem, ending="")
        except KeyStoreError as exc:
            raise CommandError(str(exc)) from None

    def do_verify(self, file, **options):
        from adapter import xmlsig

        data = self._read(file)
        try:
            kind = duis.parse(data)["kind"]
        except duis.DuisError as exc:
            raise CommandError(f"not a DUIS document: {exc}") from None
        try:
            verified = xmlsig.verify_document(data, usage="message_signing" if kind == "request" else "headend")
        except xmlsig.SignatureError as exc:
            raise CommandError(f"signature does not hold: {exc}") from None
        certificate = verified.certificate
        self.stdout.write(f"signature OK: {kind} signed by {certificate.subject_eui64} "
                          f"({certificate.get_usage_display()}, serial {certificate.serial})")
