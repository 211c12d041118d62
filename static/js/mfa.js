/* Multi-factor enrolment: once django-otp-webauthn's script has registered a passkey, post the page's
 * form so the portal shows the recovery codes (no inline script: the Content-Security-Policy forbids it). */
(function () {
  document.addEventListener("otp_webauthn.register_complete", function () {
    var form = document.getElementById("mfa-enrolled-form");
    if (form) { form.submit(); }
  });
})();
