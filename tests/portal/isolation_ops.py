"""Objects of the portal's operations features owned by an organisation or one of its people
(for the isolation sweep; tests/portal/isolation.py adds them)."""


def owned_objects(organisation, person):
    from portal.notifications.models import Notification
    from portal.notifications.services import watch_set
    from portal.savedfilters.models import SavedFilter
    from portal.webhooks.models import WebhookDelivery, WebhookEndpoint

    code = organisation.code
    endpoint = WebhookEndpoint.objects.create(
        organisation=organisation, name=f"hook-{code}-marker", url=f"https://{code.lower()}.example/hook",
        events=["request.failed"], secret=f"secret-{code}-marker")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="request.failed", payload={"m": f"delivery-{code}-marker"},
        body=f'{{"m":"delivery-{code}-marker"}}', error=f"error-{code}-marker")
    notification = Notification.objects.create(user=person, event="alert.received",
                                               summary=f"notification-{code}-marker")
    saved = SavedFilter.objects.create(user=person, page="organisation_list", name=f"filter-{code}-marker",
                                       querystring="kind=service_user")
    watch_set(user=person, obj=organisation, watching=True)
    return [(endpoint, endpoint.name), (endpoint, endpoint.secret), (delivery, f"delivery-{code}-marker"),
            (delivery, f"error-{code}-marker"), (notification, notification.summary), (saved, saved.name)]
