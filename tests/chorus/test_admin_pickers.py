"""The admin never renders a <select> of every structure or user, nor one query per row for them: a foreign
key to either is an autocomplete (or raw id) field in every change form, and every list that shows one
loads it with list_select_related."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import User
from structures.models import Structure

pytestmark = pytest.mark.django_db


def _admins():
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin
        for inline in model_admin.inlines:
            yield inline.model, inline(model, admin.site)


def _request():
    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return request


def test_foreign_keys_to_structures_and_users_are_autocomplete_fields_in_every_form():
    _admins_checked = []
    request = _request()
    offenders = []
    for model, model_admin in _admins():
        add = (
            model_admin.has_add_permission(request, None)
            if isinstance(model_admin, admin.options.InlineModelAdmin)
            else model_admin.has_add_permission(request)
        )
        if not (add or model_admin.has_change_permission(request)):
            continue  # a view-only admin shows the related object as text
        readonly = set(model_admin.get_readonly_fields(request))
        shown = set(model_admin.get_fields(request))
        for field in model._meta.get_fields():
            if not getattr(field, "many_to_one", False) or field.related_model not in (Structure, User):
                continue
            pickers = (*model_admin.autocomplete_fields, *model_admin.raw_id_fields)
            if field.name in shown and field.name not in readonly and field.name not in pickers:
                offenders.append(f"{type(model_admin).__name__}.{field.name}")
        _admins_checked.append(model)
    assert offenders == [], offenders
    assert Structure in _admins_checked


def test_lists_showing_a_foreign_key_load_it_in_the_same_query():
    offenders = []
    for model, model_admin in admin.site._registry.items():
        related = model_admin.list_select_related
        for name in model_admin.list_display:
            try:
                field = model._meta.get_field(name)
            except Exception:  # noqa: S112 — a method or a callable column, not a field
                continue
            if getattr(field, "many_to_one", False) and related is not True and name not in (related or ()):
                offenders.append(f"{type(model_admin).__name__}.{name}")
    assert offenders == []


def test_no_list_filter_lists_every_structure_or_user():
    offenders = []
    for model, model_admin in admin.site._registry.items():
        for entry in model_admin.list_filter:
            name = entry[0] if isinstance(entry, tuple) else entry
            if not isinstance(name, str):
                continue
            try:
                field = model._meta.get_field(name.split("__")[0])
            except Exception:  # noqa: S112 — a lookup through another relation, checked by hand
                continue
            if getattr(field, "many_to_one", False) and field.related_model in (Structure, User):
                offenders.append(f"{type(model_admin).__name__}.{name}")
    assert offenders == []
