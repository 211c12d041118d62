"""Project configuration: settings (read from the environment by the typed helpers in
config/env.py), the test settings, the site's URLconf and the WSGI entry point.

This package is not an app and holds no models. It is the one place that may import every app
(the URLconf includes each app's pages and API routes), as NetBox's project package does; the
apps themselves never import it (they read ``django.conf.settings``).
"""
