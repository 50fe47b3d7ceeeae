from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("certificates/<int:certificate_id>/pdf/", views.download, name="download"),
    path("certificates/<int:certificate_id>/v<int:number>/pdf/", views.download_version, name="download_version"),
    path(
        "certificates/<int:certificate_id>/v<int:number>/credential.json",
        views.download_credential,
        name="download_credential",
    ),
    path("certificates/<int:certificate_id>/v<int:number>/thumbnail.png", views.thumbnail, name="thumbnail"),
    path("certificates/<int:certificate_id>/email/", views.email_again, name="email_again"),
    path("certificates/<int:certificate_id>/name/", views.name_correction, name="name_correction"),
    path("courses/<int:enrollment_id>/dispute/", views.dispute, name="dispute"),
    path("email/", views.email_change, name="email_change"),
    path("email/confirm/", views.confirm_email, name="confirm_email"),
]
