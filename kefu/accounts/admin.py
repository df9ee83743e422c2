from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.accounts.enums import Role
from kefu.accounts.models import ApiToken, Skill, Team, TeamMembership, User
from kefu.accounts.roles import ADMIN_SITE_ROLES
from kefu.core.admin import AuditedAdmin


@admin.register(Skill)
class SkillAdmin(AuditedAdmin[Skill]):
    list_display = ("code", "name", "name_en")
    search_fields = ("code", "name", "name_en")


class MembershipInline(admin.TabularInline[TeamMembership, Team]):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(AuditedAdmin[Team]):
    list_display = ("name", "name_en", "code")
    search_fields = ("name", "name_en", "code")
    filter_horizontal = ("skills",)
    inlines = (MembershipInline,)


@admin.register(User)
class UserAdmin(AuditedAdmin[User], DjangoUserAdmin[User]):
    list_display = ("username", "full_name", "role", "availability", "capacity", "is_active")
    list_filter = ("role", "availability", "is_active")
    search_fields = ("username", "full_name", "email", "employee_no")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            _("客服信息"),
            {"fields": ("full_name", "role", "employee_no", "phone", "skills", "availability", "capacity")},
        ),
    )
    filter_horizontal = ("groups", "user_permissions", "skills")

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        # The role decides admin-site access and the permission group; keep them in step.
        if "role" in form.changed_data or not change:
            obj.is_staff = obj.role in ADMIN_SITE_ROLES
            obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: ModelForm[User], formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if "role" in form.changed_data or not change:
            form.instance.groups.set(Group.objects.filter(name=form.instance.role))


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("revoked_at",)

    def has_add_permission(self, request: object) -> bool:
        # Tokens are created with `kefu token create` so the plain token can be shown exactly once.
        return False
