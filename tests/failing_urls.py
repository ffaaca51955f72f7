"""A URL configuration with a view that fails, for the error-handler test."""

from django.urls import path


def boom(request):
    raise RuntimeError("an error no view caught")


urlpatterns = [path("api/boom", boom)]
handler500 = "analytics_project.errors.server_error"
