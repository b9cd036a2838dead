app_name = "attachments"

urlpatterns = []
