from django.urls import path

from django_keepword import views

urlpatterns = [path("webhooks/helpdesk", views.helpdesk_webhook)]
