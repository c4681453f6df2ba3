from django.urls import path

from sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("stubs/handler_api.php", views.handler, name="handler"),
    path("hero/stubs/handler_api.php", views.handler, {"hero_keys": True}, name="hero_handler"),
]
