from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.decorators import login_required

from accounts.models import ApiToken, Membership, Organisation, User
from accounts.services import organisation_create

# The admin's own login form would bypass the second factor: send it through allauth's.
admin.site.login = login_required(admin.site.login)
admin.site.site_header = "Frontier Review Portal — administration"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_active")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "created_at")
    list_filter = ("kind",)
    fields = ("name", "kind")

    def get_readonly_fields(self, request, obj=None):
        return ("kind",) if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New organisations go through the service: it creates the permission group.
        created = organisation_create(name=obj.name, kind=obj.kind, actor=request.user)
        obj.pk, obj.group_id = created.pk, created.group_id

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("role",)

    def has_add_permission(self, request):
        return False  # use the `user_create` service (the demo command shows how)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "hint", "key_hash", "created_at", "last_used_at",
                       "revoked_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
