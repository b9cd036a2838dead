from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def request_create(request):
    return render(request, "attachments/request_create.html")
