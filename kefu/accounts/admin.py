from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.forms import ChoiceField, ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from kefu.accounts import access, services
from kefu.accounts.actors import signed_in
from kefu.accounts.enums import Role
from kefu.accounts.lockout import AdminLoginForm
from kefu.accounts.models import ApiToken, Skill, Team, TeamMembership, User
from kefu.accounts.roles import ADMIN_SITE_ROLES
from kefu.core import audit
from kefu.core.admin import AuditedAdmin
from kefu.core.errors import PermissionDenied
from kefu.core.models import AuditAction

# Fields of a user that only administrators may change (the rest follows from the role).
ADMINISTRATOR_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


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
    """Managers reach this page too (``change_user``): see kefu.accounts.access for what they may do —
    only administrators grant groups, single permissions, superuser or the admin role, edit users who
    hold more than they do, or set another user's password."""

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
    readonly_fields = ("last_login", "date_joined")
    audit_derived_fields = ("is_staff", "is_superuser")

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and not access.may_manage_user(signed_in(request), obj):
            return False  # shown read-only (managers may view users)
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if access.is_administrator(signed_in(request)):
            return readonly
        return (*readonly, *ADMINISTRATOR_FIELDS)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or access.may_set_password(signed_in(request), obj):
            return fieldsets
        # The password field links to the page that sets it: not offered for someone else's account.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
            for name, options in fieldsets
        ]

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "role" in form.base_fields:
            allowed = {str(role) for role in access.grantable_roles(signed_in(request))}
            field = cast(ChoiceField, form.base_fields["role"])
            field.choices = [choice for choice in Role.choices if choice[0] in allowed]
        return form

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        # The form only offers what the user may grant; a forged POST is refused here.
        try:
            if change:
                access.require_may_manage_user(signed_in(request), obj)
            if "role" in form.changed_data or not change:
                access.require_may_grant_role(signed_in(request), obj.role)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        if "role" in form.changed_data or not change:
            # The role decides admin-site access and the permission group; keep them in step.
            obj.is_staff = obj.role in ADMIN_SITE_ROLES
            obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_revoke_tokens(actor=signed_in(request), user=obj)

    def after_save_related(self, request: HttpRequest, form: ModelForm[User], change: bool) -> None:
        if "role" in form.changed_data or not change:
            form.instance.groups.set(Group.objects.filter(name=form.instance.role))

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        user = self.get_object(request, unquote(id))
        if user is not None and not access.may_set_password(signed_in(request), user):
            raise DjangoPermissionDenied
        response = super().user_change_password(request, id, form_url)
        if (
            user is not None
            and request.method == "POST"
            and response.status_code == 302
            and response["Location"] != request.get_full_path()
        ):
            audit.record(
                actor=signed_in(request),
                action=AuditAction.UPDATE,
                obj=user,
                changes={"password": [None, "******"]},
            )
        return response


# The admin's sign-in says when an account or address is locked (kefu.accounts.lockout).
admin.site.login_form = AdminLoginForm
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdmin[Group], DjangoGroupAdmin):
    """A group is a role's permission set: only administrators change it (a manager who could would
    grant themselves anything)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return access.is_administrator(signed_in(request))

    def has_change_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return access.is_administrator(signed_in(request))

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return access.is_administrator(signed_in(request))


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("revoked_at",)

    def has_add_permission(self, request: object) -> bool:
        # Tokens are created with `kefu token create` so the plain token can be shown exactly once.
        return False
