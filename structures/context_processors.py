from structures import selectors

# Set in the session when the first-login window has been shown: the window opens once per sign-in (a new
# session), and the home page shows the same two choices as a notice for the rest of the session.
WINDOW_SHOWN_SESSION_KEY = "first_login_choice_shown"


def first_login_choice(request):
    """`first_login_choice` is "window", "notice" or "" on the page a user lands on after sign-in (the home
    page). A signed-in user attached to no structure gets the guide's two-choice window the first time in the
    session, then a notice offering the same choices: a modal window on every visit hid the header each time.
    A callable, so only a template that uses it makes the query and marks the window as shown; memoised,
    so a template may test it more than once."""
    user = getattr(request, "user", None)
    decided: list[str] = []

    def choice() -> str:
        if not decided:
            if not (user and user.is_authenticated) or selectors.user_has_structure(user=user):
                decided.append("")
            elif request.session.get(WINDOW_SHOWN_SESSION_KEY):
                decided.append("notice")
            else:
                request.session[WINDOW_SHOWN_SESSION_KEY] = True
                decided.append("window")
        return decided[0]

    return {"first_login_choice": choice}
