"""Webhooks: endpoints organisations register to receive signed JSON about events, and every
delivery made to them (attempts, retries with back-off, resends by hand).

- models.py: WebhookEndpoint, WebhookDelivery (app_label "portal", tables portal_*)
- services.py: signing (sign, verify_signature: the reference check for receivers), deliveries
  (deliveries_create, delivery_attempt as a django-q2 task, deliveries_retry_due every minute,
  delivery_resend) and endpoints (endpoint_save, endpoint_secret_rotate)
- views.py, urls.py: /webhooks/... (URL names without a namespace)
- api.py: /api/webhook-endpoints/ and /api/webhook-deliveries/ (ROUTES)
- forms.py, choices.py: the endpoint form, delivery statuses (the events are the registry's: portal.registry)

portal.events.publish creates the deliveries for each event; nothing else needs to.
"""
