from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # the ESP authenticates with the shared secret, not a browser session
def anymail_webhooks(request: HttpRequest, rest: str) -> HttpResponse:
    """anymail's tracking webhooks, served only once they are authenticated.

    Without ANYMAIL["WEBHOOK_SECRET"] anymail accepts any caller (it only warns), and a forged
    "bounced" event would stop a learner's mail: so the URLs do not exist until the secret does.
    """
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        raise Http404("tracking webhooks are not configured")
    try:
        match = resolve("/" + rest, urlconf="anymail.urls")
    except Resolver404 as exc:
        raise Http404("no such webhook") from exc
    return match.func(request, *match.args, **match.kwargs)
