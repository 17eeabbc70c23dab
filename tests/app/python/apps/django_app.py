"""A minimal one-file Django project for ferry's gateway tests (Debian's python3-django)."""

import os
import tempfile

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="ferry-tests",
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
        DEFAULT_CHARSET="utf-8",
        FILE_UPLOAD_MAX_MEMORY_SIZE=1024,
    )

import django  # noqa: E402

django.setup()

from django.core.signals import request_finished  # noqa: E402
from django.http import FileResponse, HttpResponse, JsonResponse, StreamingHttpResponse  # noqa: E402
from django.urls import path, re_path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

FINISHED = os.path.join(tempfile.gettempdir(), "ferry-django-finished-%d" % os.getppid())
HERE = os.path.dirname(os.path.abspath(__file__))


def _count_finished(sender, **kwargs):
    with open(FINISHED, "a") as f:
        f.write("x")


request_finished.connect(_count_finished)


def hello(request):
    return HttpResponse("django says hello")


@csrf_exempt
def body(request):
    data = request.body
    return JsonResponse({"size": len(data), "head": data[:10].decode("latin-1"), "meta": request.META.get("CONTENT_LENGTH")})


@csrf_exempt
def upload(request):
    f = request.FILES["file"]
    data = f.read()
    return JsonResponse({"name": f.name, "size": len(data), "note": request.POST.get("note")})


def streaming(request):
    return StreamingHttpResponse(("line %d\n" % i for i in range(4)), content_type="text/plain")


def file(request):
    return FileResponse(open(os.path.join(HERE, "plain_apps.py"), "rb"), content_type="text/x-python")


def unicode_path(request, name):
    return JsonResponse({"name": name, "path": request.path})


def finished(request):
    try:
        with open(FINISHED) as f:
            n = len(f.read())
    except FileNotFoundError:
        n = 0
    return JsonResponse({"finished": n})


urlpatterns = [
    path("", hello),
    path("body", body),
    path("upload", upload),
    path("stream", streaming),
    path("file", file),
    path("finished", finished),
    re_path(r"^u/(?P<name>.+)$", unicode_path),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
