from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Renders every field with a visible label, a red asterisk plus screen-reader text on required fields,
    and the error next to the field (Django links it with aria-describedby and aria-invalid)."""

    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"
