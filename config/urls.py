from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from delivery.views import anymail_webhooks
from learners.api import lms_completions

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="verification:lookup", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", include("certificates.urls")),
    path("verify/", include("verification.urls")),
    path("api/lms/completions", lms_completions, name="lms_completions"),
    # ESP tracking webhooks (delivered, bounced, complained, opened, clicked): anymail/<esp>/tracking/
    path("anymail/<path:rest>", anymail_webhooks, name="anymail_webhooks"),
]
