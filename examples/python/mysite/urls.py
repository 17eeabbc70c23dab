"""Two views: a greeting and a body echo."""

from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def index(request):
    return HttpResponse("Hello from Django, served by ferry\n", content_type="text/plain")


@csrf_exempt
def echo(request):
    return JsonResponse({"size": len(request.body), "method": request.method})


urlpatterns = [path("", index), path("echo", echo)]
