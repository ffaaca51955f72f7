from django.urls import path

from accounts.api import views

urlpatterns = [
    path("token", views.token, name="pirsch-token"),
]
