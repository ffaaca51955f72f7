from django.conf import settings


def footfall(request):
    """Values every page template may use."""
    return {"signup_enabled": settings.SIGNUP_ENABLED}
