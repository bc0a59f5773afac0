from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("billing/payments/<int:payment_id>/pay/", views.payment_pay, name="payment_pay"),
    path("billing/payments/<int:payment_id>/", views.payment_detail, name="payment_detail"),
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
