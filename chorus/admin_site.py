from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class ChorusAdminSite(OTPAdminSite):
    """The admin for administrators and the tax office's instructors: only for staff who signed in through
    the portal's own sign-in, with the code e-mailed to them (strong authentication, as for every user)."""

    site_header = "Chorus Agri — administration"
    site_title = "Chorus Agri"
    index_title = "Instruction et administration"

    def __init__(self, name="admin"):
        super().__init__(name)

    def login(self, request, extra_context=None):
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:login"))
