from django.contrib import admin

from .models import Delivery, SuppressedAddress, TrackingEvent


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "purpose", "recipient", "status", "attempts", "tracking_status", "last_error"]
    list_filter = ["status", "purpose", "tracking_status"]
    search_fields = ["recipient", "esp_message_id", "reference"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "event_type", "recipient", "delivery", "description"]
    list_filter = ["event_type"]
    search_fields = ["recipient", "esp_message_id"]
    list_select_related = ["delivery"]  # the delivery column, without a query per row
    readonly_fields = [f.name for f in TrackingEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    """Deleting a row lets the address be mailed again (after checking it really works)."""

    list_display = ["email", "reason", "description", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    readonly_fields = ["email", "reason", "description", "created_at"]

    def has_add_permission(self, request):
        return False
