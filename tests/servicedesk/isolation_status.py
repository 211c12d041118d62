"""Objects of the service status part owned by one organisation, each with a marker its pages
would show (tests/servicedesk/isolation.py adds them to the sweep): a monthly report delivery
with its file, and a forecast of a number that appears nowhere else. Components, alerts and
maintenance are the service's, read by everyone: they carry no marker."""
import datetime as dt

from django.core.files.base import ContentFile

from adapter import catalogue
from adapter.models import ServiceRequestVariant
from servicedesk.choices import DeliveryState, ReportKind
from servicedesk.models import SelfServiceReportDelivery, UsageForecast


def owned_objects(organisation, person):
    if not ServiceRequestVariant.objects.exists():
        catalogue.load(ServiceRequestVariant)
    srv = ServiceRequestVariant.objects.order_by("sort_order", "code").first()
    code = organisation.code
    delivery = SelfServiceReportDelivery(organisation=organisation, kind=ReportKind.RSMI_001,
                                         month=dt.date(2020, 1, 1), due_on=dt.date(2020, 2, 14),
                                         state=DeliveryState.DELIVERED, rows=1,
                                         error=f"delivery-late-{code}-marker")
    delivery.file.save(f"RSMI_001_{code}_2020-01.csv", ContentFile(f"device_id\nfile-{code}-marker\n".encode()),
                       save=False)
    delivery.save()
    forecast = UsageForecast.objects.create(organisation=organisation, month=dt.date(2020, 1, 1), srv=srv,
                                            forecast=918273000 + len(code))
    return [(delivery, delivery.error), (forecast, str(forecast.forecast))]
