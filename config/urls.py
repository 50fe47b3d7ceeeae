from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from delivery.views import anymail_webhooks
from learners import views as sign_in_views
from learners.api import lms_completions
from verification import api as verify_api
from verification import credentials as published_credentials

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="verification:lookup", permanent=False)),
    # Staff password attempts are rate-limited here, before Django's admin login sees them.
    path("admin/login/", sign_in_views.admin_login),
    path("admin/", admin.site.urls),
    path("accounts/login/", sign_in_views.sign_in, name="login"),
    path("accounts/login/sent/", sign_in_views.sign_in_sent, name="sign_in_sent"),
    path("accounts/link/", sign_in_views.sign_in_link, name="sign_in_link"),
    path("accounts/password/", sign_in_views.password_login, name="password_login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", include("certificates.urls")),
    path("verify/", include("verification.urls")),
    # Open Badges credentials (docs/CREDENTIALS.md): the issuer's keys as did:web, and the status lists.
    path(".well-known/did.json", published_credentials.site_did, name="did_web"),
    path("issuers/<slug:slug>/did.json", published_credentials.organisation_did, name="organisation_did"),
    path(
        "issuers/<slug:slug>/status/<int:number>/<str:purpose>",
        published_credentials.status_list,
        name="credential_status_list",
    ),
    path("api/lms/completions", lms_completions, name="lms_completions"),
    path("api/verify/file", verify_api.verify_file, name="api_verify_file"),
    path("api/verify/<str:code>", verify_api.verify_code, name="api_verify"),
    # ESP tracking webhooks (delivered, bounced, complained, opened, clicked): anymail/<esp>/tracking/
    path("anymail/<path:rest>", anymail_webhooks, name="anymail_webhooks"),
]
