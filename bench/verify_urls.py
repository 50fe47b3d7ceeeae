"""The project's URLs plus the floor the verify page is measured against (bench/verify.py only)."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns
from courses.models import Organisation


def bare(request):
    """A bare one-query Django view through the same middleware: the floor."""
    return HttpResponse(str(Organisation.objects.values_list("pk", flat=True).first()))


urlpatterns = [path("bench/bare/", bare), *site_urlpatterns]
