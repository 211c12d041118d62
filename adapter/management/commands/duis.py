"""manage.py duis render REQUEST_ID | duis parse FILE: the DUIS codec on its own."""
import json

from django.core.management.base import BaseCommand, CommandError

from adapter import duis


class Command(BaseCommand):
    help = "Render a stored request as DUIS XML, or parse a DUIS request/response file to JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        render = sub.add_parser("render", help="print the DUIS XML of a stored request")
        render.add_argument("request_id")
        parse = sub.add_parser("parse", help="print a DUIS document as JSON")
        parse.add_argument("file")

    def handle(self, *args, verb, **options):
        if verb == "render":
            from adapter.models import ServiceRequest

            request = ServiceRequest.objects.select_related("srv").filter(request_id=options["request_id"]).first()
            if request is None:
                raise CommandError(f"no service request {options['request_id']!r}")
            self.stdout.write(duis.render_request(
                request_id=request.request_id, srv_code=request.srv.code, srv_name=request.srv.name,
                params=request.params, execute_at=request.execute_at, critical=request.srv.critical,
                non_device=request.srv.non_device, signature=request.signature))
            return
        try:
            with open(options["file"], "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from None
        try:
            parsed = duis.parse(data)
        except duis.DuisError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(parsed, indent=2))
