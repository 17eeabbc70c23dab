"""A one-file Django project with DEBUG on, whose console logging reaches stderr (for the levels
ferry gives Django's log lines)."""

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=True,
        SECRET_KEY="ferry-tests",
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
    )

import django  # noqa: E402

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def hello(request):
    return HttpResponse("hello")


def boom(request):
    raise RuntimeError("a view that fails")


urlpatterns = [path("", hello), path("boom", boom)]
application = get_wsgi_application()
