from django.core.checks import Error, register

from support.assistant import TreeError, tree_link_problems, tree_load


@register()
def assistant_tree_check(app_configs, **kwargs):
    """`manage.py check` (and so CI and deployment) refuses a broken assistant tree."""
    try:
        problems = tree_link_problems(tree_load())
    except TreeError as exc:
        problems = exc.problems
    return [Error(problem, id="support.E001", obj="support/assistant.toml") for problem in problems]
