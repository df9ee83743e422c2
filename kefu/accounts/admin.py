from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import ApiToken, Skill, Team, TeamMembership, User


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin[Skill]):
    list_display = ("code", "name", "name_en")
    search_fields = ("code", "name", "name_en")


class MembershipInline(admin.TabularInline[TeamMembership, Team]):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "name_en", "code")
    search_fields = ("name", "name_en", "code")
    filter_horizontal = ("skills",)
    inlines = (MembershipInline,)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "role", "availability", "capacity", "is_active")
    list_filter = ("role", "availability", "is_active")
    search_fields = ("username", "full_name", "email", "employee_no")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("客服信息"), {"fields": ("full_name", "role", "employee_no", "phone", "skills", "availability", "capacity")}),
    )
    filter_horizontal = ("groups", "user_permissions", "skills")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("revoked_at",)

    def has_add_permission(self, request: object) -> bool:
        # Tokens are created with `kefu token create` so the plain token can be shown exactly once.
        return False
