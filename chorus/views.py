from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_safe


@login_not_required
@require_safe
def home(request):
    return render(request, "chorus/home.html")


@login_not_required
@require_safe
def accessibility(request):
    return render(request, "chorus/accessibility.html")


@login_not_required
@require_safe
def legal_notice(request):
    return render(request, "chorus/legal_notice.html")


@login_not_required
@require_safe
def terms(request):
    return render(request, "chorus/terms.html")
