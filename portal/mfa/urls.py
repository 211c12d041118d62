from django.urls import include, path

from portal.mfa import views

urlpatterns = [
    path("accounts/mfa/", views.mfa_verify, name="mfa_verify"),
    path("accounts/mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("accounts/mfa/enrolled/", views.mfa_enrolled, name="mfa_enrolled"),
    path("accounts/mfa/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    # The passkey ceremonies (django-otp-webauthn's JSON views, called by its JS).
    path("accounts/mfa/webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
]
