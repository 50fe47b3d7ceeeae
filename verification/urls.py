from django.urls import path

from . import credentials, views

app_name = "verification"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("file/", views.file_check, name="file_check"),  # before <code>/: "file" is not a code
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/v<int:number>/", views.version_detail, name="version"),
    path("<str:code>/credential.json", credentials.current_credential, name="current_credential"),
    path("<str:code>/v<int:number>/credential.json", credentials.credential, name="credential"),
    path("<str:code>/v<int:number>/logo", views.logo, name="logo"),
    path("<str:code>/pdf/", views.pdf, name="pdf"),
    path("<str:code>/preview.png", views.preview, name="preview"),
    path("<str:code>/linkedin/<str:action>/", views.linkedin, name="linkedin"),
]
