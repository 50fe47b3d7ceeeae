from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("certificates/<int:certificate_id>/pdf/", views.download, name="download"),
    path("certificates/<int:certificate_id>/email/", views.email_again, name="email_again"),
]
