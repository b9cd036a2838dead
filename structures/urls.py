app_name = "structures"

urlpatterns = []
