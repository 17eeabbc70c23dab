"""Settings of a minimal Django project served by ferry (no database, no templates)."""

SECRET_KEY = "change-me: a real deployment reads this from the environment"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES = {}
USE_TZ = True
WSGI_APPLICATION = "mysite.wsgi.application"
