"""Notifications and watches: the in-app list of what each person was told, their e-mail
preference (at once or a daily digest) and the objects they watch.

- models.py: Watch, NotificationPreference, Notification (app_label "portal", tables portal_*)
- services.py: watch_set, preference_set, notify, notifications_mark_read, digest_send, and the
  reads the pages and template tags use (is_watching, watchers_of, unread_count, ...)
- views.py, urls.py: /notifications/... and /watch/ (URL names without a namespace)
- api.py: /api/notifications/ (ROUTES, registered by config/urls.py)
- forms.py, choices.py: the e-mail preference

Apps never call this package directly: they publish events through portal.events.publish, which
decides who hears (recipients named, watchers of the object) and calls notify.
"""
