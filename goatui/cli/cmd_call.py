"""`goatui call PLUGIN FUNCTION [ARGS]`: call a handler and print the result."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from goatui.core.errors import UsageError
from goatui.core.sanitize import sanitize_line

if TYPE_CHECKING:
    from jsonpath_ng import JSONPath

    from goatui.core.calls.results import ResultView
    from goatui.core.config import Config
    from goatui.core.session import Session

# What --trace prints at most; a call that did more says how many it left out.
TRACE_LINES = 1000


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plugin", help="the plugin's registered name")
    parser.add_argument("function", help="the handler to call")
    parser.add_argument(
        "args",
        nargs="?",
        default="{}",
        help="JSON args: the text, - for stdin, or @FILE (default {})",
    )
    parser.add_argument(
        "--query",
        metavar="JSONPATH",
        help="print only what this JSONPath finds in a JSON result: one match as itself, "
        "several as a list, none as [] (e.g. '$.rows[*].id'; see README)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="then print on stderr the log lines and host calls the plugin made while "
        "serving the call (WASM plugins, and plugins goatui hosts: --launch, --attach-host)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help='print the result as the plugin sent it, even its {"error": ...} (exit 0)',
    )
    parser.add_argument(
        "--print-command",
        action="store_true",
        help="call nothing: print this call as a goatui command line (and as curl, with a gateway)",
    )
    parser.set_defaults(handler=run)


RAW_HINT = "--raw prints it as the result"


def read_call_args(spec: str, max_message_mb: int) -> tuple[str, str]:
    """The args text and where it came from: literal JSON, `-` (stdin) or `@FILE`,
    read against the message limit (`@/dev/zero` or an endless pipe stop there)."""
    from goatui.core.inputs import read_stdin_text, read_text_file, shown_path
    from goatui.core.limits import MiB

    limit = max_message_mb * MiB
    hint = "args must fit the message limit; raise it with --max-message-mb"
    if spec == "-":
        return read_stdin_text(limit=limit, what="stdin (the args)", hint=hint), "stdin"
    if spec.startswith("@"):
        path = spec[1:]
        what = f"args file {shown_path(path)}"
        return read_text_file(path, limit=limit, what=what, hint=hint), path
    return spec, "args"


def run(options: argparse.Namespace, config: Config) -> int:
    from goatui.cli.common import build_session, call_timeout, max_message_mb, run_in_session
    from goatui.cli.output import print_result
    from goatui.core.calls.results import check_result, classify_result, parse_args
    from goatui.core.errors import ExitCode

    limit_mb = max_message_mb(options, config)
    text, source = read_call_args(options.args, limit_mb)
    args = parse_args(text, source, max_message_mb=limit_mb)
    # An invalid query is a usage error found before anything is sent.
    query = None
    if options.query is not None:
        from goatui.core.calls.query import compile_query

        query = compile_query(options.query)
    if options.print_command:
        print_command(options, config, text)
        return ExitCode.OK
    timeout = call_timeout(options, config)
    session = build_session(options, config)

    async def work() -> int:
        from goatui.core.audit import audited, target

        started = time.time()  # the wall clock the host's trace and the log stream keep
        try:
            with audited(
                "invoke",
                target(options.plugin, options.function),
                where=session.backend.label,
                args=args,
                on_problem=lambda problem: print(f"goatui: warning: {problem}", file=sys.stderr),
            ):
                result = await session.backend.call(options.plugin, options.function, args, timeout)
                if not options.raw:
                    what = f"call {options.function} of {options.plugin}"
                    check_result(result, what, hint=RAW_HINT)
        except Exception:
            if options.trace:  # what it did before failing, then the error line
                print_trace(session, options.plugin, options.function, started)
            raise
        view = classify_result(result.data)
        if query is not None:
            view = apply_query(view, query)
        print_result(view)
        if options.trace:
            sys.stdout.flush()
            print_trace(session, options.plugin, options.function, started)
        return ExitCode.OK

    return run_in_session(session, work)


def print_trace(session: Session, plugin: str, function: str, started: float) -> None:
    """--trace: the plugin's log lines and host calls since started, on stderr."""
    ended = time.time()
    if not (session.backend.runs_inside(plugin) or plugin in session.attached):
        print(
            f"goatui: --trace: goatui is not the host of {sanitize_line(plugin)}, so it saw "
            "none of its log lines or host calls; run it with --wasm FILE, --launch or "
            "--attach-host",
            file=sys.stderr,
        )
        return
    from goatui.core.hosting.timeline import during, timeline_lines

    host = session.host_state
    calls, logs = during(plugin, started, ended, host.trace if host else (), session.logs)
    heading = (
        f"trace of {sanitize_line(plugin)}.{sanitize_line(function)}: "
        f"{len(logs)} log line{'s' * (len(logs) != 1)}, "
        f"{len(calls)} host call{'s' * (len(calls) != 1)}"
    )
    lines = timeline_lines(calls, started, logs=logs, heading=heading, limit=TRACE_LINES)
    print("\n".join(lines), file=sys.stderr, flush=True)


def apply_query(view: ResultView, query: JSONPath) -> ResultView:
    """The part of a JSON result the query finds, as a result to print."""
    from goatui.core.calls.query import query_matches
    from goatui.core.calls.results import ResultView
    from goatui.core.errors import RemoteError
    from goatui.core.sanitize import safe_json_dumps

    if view.kind != "json":
        # Exit 1: the call worked, but what came back cannot be queried.
        raise RemoteError(f"--query needs a JSON result; this one is {view.kind}", code="NOT_JSON")
    matches = query_matches(view.value, query)
    if not matches:
        print("goatui: note: the query matched nothing", file=sys.stderr)
    # query_json's rule: one match as itself, several (or none) as a list.
    value = matches[0].value if len(matches) == 1 else [m.value for m in matches]
    text = safe_json_dumps(value)
    return ResultView("json", text, value, len(text))


def print_command(options: argparse.Namespace, config: Config, args_text: str) -> None:
    """--print-command: the call as `goatui call ...` and, with a gateway, as curl."""
    import os

    from goatui.core.backends.contexts import URL_ENV, get_context
    from goatui.core.calls.copycmd import as_curl, as_goatui_call

    plugin = options.plugin
    contexts = options.context or []
    context = contexts[0] if len(contexts) == 1 else None
    if getattr(options, "fleet", False) or len(contexts) > 1:
        # A fleet's NAME@CONTEXT names the one context the line needs.
        name, _, where = plugin.rpartition("@")
        if not name:
            raise UsageError(
                "--print-command with a fleet needs PLUGIN@CONTEXT", "or give one --context"
            )
        plugin, context = name, where
    gateway = options.gateway or ("" if options.socket or context else os.environ.get(URL_ENV))
    if context:
        gateway = get_context(config, context).gateway
    if gateway:
        from goatui.core.backends.gateway.rest import gateway_base

        gateway = gateway_base(gateway)  # normalised; a URL with credentials is refused
    line = as_goatui_call(
        plugin,
        options.function,
        args_text,
        sockets=options.socket,
        gateway=None if context else gateway,
        context=context,
        query=options.query,
        wasm=options.wasm,
    )
    print(line)
    if gateway:
        print(as_curl(gateway, plugin, options.function, args_text))
