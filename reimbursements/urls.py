app_name = "reimbursements"

urlpatterns = []
