from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from sites.selectors import site_list_for_user


@login_required
def site_list(request):
    return render(request, "sites/site_list.html", {"sites": site_list_for_user(request.user)})
