"""Sign in to a gateway from the console: login and password (masked), like `goatui login`.

The password lives only in the masked field until it is sent (in the body of GoatFlow's
sign-in request, by the backend) and is cleared right after, whatever the outcome. The
new sign-in is stored and refreshed as `goatui login`'s is.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from goatui.core.backends.base import Backend, SignInStatus
from goatui.core.errors import GoatError
from goatui.core.sanitize import safe_text
from goatui.ui.keys import TextInput
from goatui.ui.screens.dialog import Dialog


class SignInScreen(Dialog[SignInStatus | None]):
    """Dismisses with the new sign-in's status, or None (Escape, Cancel)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sign_in.cancel")]

    def __init__(self, backend: Backend, status: SignInStatus) -> None:
        super().__init__()
        self.backend = backend
        self.status = status

    def compose(self) -> ComposeResult:
        status = self.status
        where = status.gateway + (f" (context {status.context})" if status.context else "")
        with Vertical(id="sign-in-dialog"):
            yield Label(Text("Sign in to GoatFlow", style="bold"), id="sign-in-title")
            yield Label(safe_text(where, one_line=True), id="sign-in-where")
            if status.problem:
                yield Label(safe_text(status.problem), id="sign-in-reason")
            elif status.admin_lost:
                yield Label(
                    "GoatFlow's refreshed tokens carry no admin rights: signing in again "
                    "gives them back (logs, enable, disable).",
                    id="sign-in-reason",
                )
            yield Label("Login", classes="sign-in-label")
            yield TextInput(
                status.user, placeholder="GoatFlow login", id="sign-in-login", compact=True
            )
            yield Label("Password", classes="sign-in-label")
            yield TextInput(
                password=True,
                placeholder="never shown, never kept",
                id="sign-in-password",
                compact=True,  # as the login: two fields that look alike
            )
            yield Static(id="sign-in-error")
            with Horizontal(id="sign-in-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in-go")
                yield Button("Cancel", id="sign-in-cancel")
            yield Label("enter signs in · escape cancels", id="sign-in-hint")

    @property
    def login_input(self) -> Input:
        return self.query_one("#sign-in-login", Input)

    @property
    def password_input(self) -> Input:
        return self.query_one("#sign-in-password", Input)

    def on_mount(self) -> None:
        (self.password_input if self.login_input.value else self.login_input).focus()

    @on(Input.Submitted, "#sign-in-login")
    def _login_entered(self) -> None:
        self.password_input.focus()

    @on(Input.Submitted, "#sign-in-password")
    @on(Button.Pressed, "#sign-in-go")
    def action_submit(self) -> None:
        login, password = self.login_input.value.strip(), self.password_input.value
        if not login:
            self._say("type the login")
            self.login_input.focus()
            return
        if not password:
            self._say("type the password")
            self.password_input.focus()
            return
        self.query_one("#sign-in-go", Button).disabled = True
        self._say("signing in …", error=False)
        self._sign_in(login, password)

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def _sign_in(self, login: str, password: str) -> None:
        try:
            status = await self.backend.sign_in(login, password, gateway=self.status.gateway)
        except GoatError as exc:
            self._say(exc.line())
            self.query_one("#sign-in-go", Button).disabled = False
            self.password_input.value = ""
            self.password_input.focus()
            return
        self.password_input.value = ""
        self.dismiss(status)

    def _say(self, text: str, *, error: bool = True) -> None:
        line = self.query_one("#sign-in-error", Static)
        line.set_class(error, "-error")
        line.update(safe_text(text, one_line=True))

    @on(Button.Pressed, "#sign-in-cancel")
    def action_cancel(self) -> None:
        self.password_input.value = ""
        self.dismiss(None)
