"""The web forms' validation, reused by the API: a payload becomes a bound Django form, and the form's French
errors become the problem's `errors: [{field, message}]`, named as the API names its fields."""

from django import forms

from api.problems import Problem


def form_problem(form: forms.Form, *, fields: dict[str, str] | None = None, status: int = 422) -> Problem:
    """The form's errors as one problem; `fields` renames a form field to its API name
    (`campaign` → `year`, `bank_account` → `bank_account_id`…). Errors not tied to a field are `__all__`."""
    fields = fields or {}
    errors = [
        {"field": fields.get(name, name), "message": message}
        for name, messages in form.errors.items()
        for message in messages
    ]
    return Problem(status, "Certaines données sont invalides.", errors=errors)


def refused(exc, *, fields: dict[str, str] | None = None, status: int = 422) -> Problem:
    """A service's refusal (`RefundError`: messages and the field they concern) as a problem."""
    field = (fields or {}).get(exc.field, exc.field) if exc.field else "__all__"
    return Problem(
        status,
        exc.messages[0] if field == "__all__" else "Certaines données sont invalides.",
        errors=[{"field": field, "message": message} for message in exc.messages],
    )
