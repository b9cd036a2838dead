from structures import selectors


def first_login_choice(request):
    """`first_login_choice` is true for a signed-in user attached to no structure: the page they land on
    after sign-in (the home page) then shows the guide's two-choice window. A callable, so only a template
    that uses it makes the query."""
    user = getattr(request, "user", None)

    def needed() -> bool:
        return bool(user and user.is_authenticated) and not selectors.user_has_structure(user=user)

    return {"first_login_choice": needed}
