"""Command line: `python -m agent init | import | train | chat | tui | serve | serve-decoder | replay | eval | test`,
`discover | review`.

Every `AgentError` (a user mistake) ends the command with one line on stderr
and exit status 2; nothing prints a traceback for a bad bot folder or message.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence

from agent.exceptions import AgentError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent", description="Customer-service chatbot framework.")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="start a new bot folder that trains and chats as it is")
    init.add_argument("folder", help="the new bot's folder (must not exist yet, or be empty)")
    init.add_argument("--name", default=None, help="the bot's name (default: from the folder's name)")

    from agent.bot.importing.args import add_arguments as add_import_arguments

    add_import_arguments(sub.add_parser("import", help="add a company's own data to a bot: messages, FAQ, pages"))

    reference = sub.add_parser("config-reference", help="write the bot.yaml reference (docs/configuration.md)")
    reference.add_argument("--out", default="docs/configuration.md", help="where to write it")
    reference.add_argument("--check", action="store_true", help="exit 1 when the file is out of date; write nothing")

    train = sub.add_parser("train", help="build every artifact of a bot (incremental)")
    train.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    train.add_argument("--force", action="store_true", help="rebuild everything even if up to date")

    chat = sub.add_parser("chat", help="chat with a bot in the terminal (trains first if needed)")
    chat.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    chat.add_argument(
        "--json", action="store_true", help="read one message per stdin line, print one JSON reply per line"
    )
    chat.add_argument("--session", default=None, help="conversation id to continue (default: a new one)")

    tui = sub.add_parser("tui", help="the terminal chat app: chat and see why each reply was given (python tui.py)")
    tui.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    tui.add_argument("--store", default=None, help="store URL instead of bot.yaml's store.url")
    tui.add_argument("--export-dir", default=".", help="where exported conversations go (default: here)")
    tui.add_argument("--light", action="store_true", help="start with the light theme (Ctrl+T toggles)")

    serve = sub.add_parser("serve", help="serve the bot over HTTP (FastAPI + uvicorn); keys from AGENT_API_KEYS")
    serve.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (use a PostgreSQL store for > 1)")
    serve.add_argument("--store", default=None, help="store URL overriding bot.yaml's store.url")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])

    from agent.replay.args import add_arguments as add_replay_arguments

    replay = sub.add_parser("replay", help="replay logged conversations through a bot; results and a report")
    add_replay_arguments(replay)

    from agent.eval.args import add_arguments as add_eval_arguments

    evaluate = sub.add_parser("eval", help="accuracy on a labelled CSV: intents (train + test) or FAQ retrieval")
    add_eval_arguments(evaluate)

    from agent.eval.testargs import add_arguments as add_test_arguments

    add_test_arguments(
        sub.add_parser("test", help="play the bot's test conversations (dialogs/tests/*.yaml); exit 1 on a failure")
    )

    from agent.discover.args import add_arguments as add_discover_arguments

    add_discover_arguments(
        sub.add_parser("discover", help="propose new intents from the customer messages no intent covers")
    )

    from agent.review.args import add_arguments as add_review_arguments

    add_review_arguments(
        sub.add_parser("review", help="the messages most worth a person's label (export), and the labels back (apply)")
    )

    serve_decoder = sub.add_parser(
        "serve-decoder", help="serve the bot's fine-tuned decoder over an OpenAI-compatible completions API"
    )
    serve_decoder.add_argument("--bot", default=".", help="bot folder whose build/decoder is served")
    serve_decoder.add_argument("--model", default=None, help="serve this model folder instead of the bot's")
    serve_decoder.add_argument("--host", default="127.0.0.1")
    serve_decoder.add_argument("--port", type=int, default=8100)

    args = parser.parse_args(argv)
    try:
        if args.command == "init":
            return _init(args)
        if args.command == "import":
            from agent.bot.importing.args import run as run_import

            return run_import(args)
        if args.command == "config-reference":
            return _config_reference(args)
        if args.command == "train":
            return _train(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "tui":
            return _tui(args)
        if args.command == "serve-decoder":
            from agent.http.decoder_server import run as run_decoder_server

            return run_decoder_server(args)
        if args.command == "eval":
            from agent.eval.args import run as run_eval

            return run_eval(args)
        if args.command == "test":
            from agent.eval.testargs import run as run_test

            return run_test(args)
        if args.command == "discover":
            from agent.discover.args import run as run_discover

            return run_discover(args)
        if args.command == "review":
            from agent.review.args import run as run_review

            return run_review(args)
        if args.command == "replay":
            from agent.replay.args import run as run_replay

            return run_replay(args)
        return _chat(args)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _serve(args: argparse.Namespace) -> int:
    from agent.http.serve import ENV_KEYS, ENV_TOKEN_SECRET, serve

    # The entry point reads the environment; components are given what they need.
    return serve(
        args.bot,
        host=args.host,
        port=args.port,
        workers=args.workers,
        store_url=args.store,
        api_keys=os.environ.get(ENV_KEYS),
        token_secret=os.environ.get(ENV_TOKEN_SECRET),
        log_level=args.log_level,
    )


def _tui(args: argparse.Namespace) -> int:
    # Imported here, like every command's code, so --help is instant (the app pulls in torch).
    from agent.tui.app import DARK, LIGHT, ChatApp

    app = ChatApp(args.bot, store_url=args.store, export_dir=args.export_dir, theme=LIGHT if args.light else DARK)
    app.run()
    code = 0
    if app.error is not None:
        print(f"error: {app.error}", file=sys.stderr)
        code = 2
    if app.load_running:
        # Quit during first-run training: the build thread cannot be interrupted, and waiting for it
        # would keep a blank terminal for up to half a minute. Nothing is lost: the manifest is written last.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    return code


def _init(args: argparse.Namespace) -> int:
    from agent.bot.scaffold import init_bot

    written = init_bot(args.folder, args.name)
    print(f"wrote a new bot in {args.folder}: {', '.join(str(p.relative_to(args.folder)) for p in written)}")
    print(f"next: python -m agent import FILE.csv --bot {args.folder}; python -m agent train --bot {args.folder}")
    return 0


def _config_reference(args: argparse.Namespace) -> int:
    from pathlib import Path

    from agent.bot.reference import reference, write

    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else ""
        if current != reference():
            print(f"{out} is out of date: run `python -m agent config-reference --out {out}`", file=sys.stderr)
            return 1
        return 0
    write(out)
    print(f"wrote {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from agent.pipeline.assemble import load_bot
    from agent.training.build import build

    build(load_bot(args.bot), force=args.force)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from agent.training import load_trained

    agent = load_trained(args.bot, progress=not args.json)
    session = args.session or f"cli-{uuid.uuid4().hex[:12]}"
    try:
        if args.json:
            return _chat_json(agent, session)
        return _chat_repl(agent, session)
    finally:
        agent.close()


def _chat_json(agent, session: str) -> int:
    for line in sys.stdin:
        text = line.rstrip("\n")
        try:
            reply = agent.respond(session, text)
            out = reply.model_dump(mode="json")
        except AgentError as exc:
            out = {"error": str(exc)}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def _chat_repl(agent, session: str) -> int:
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(f"[bold]{agent.config.name}[/bold] (session {session}); Ctrl-D or 'quit' to leave.")
    console.print(f"[green]bot>[/green] {agent.config.persona.greeting}")
    while True:
        try:
            text = console.input("[cyan]you>[/cyan] ")
        except EOFError:
            console.print()
            return 0
        if text.strip().lower() in {"quit", "exit"}:
            return 0
        try:
            reply = agent.respond(session, text)
        except AgentError as exc:
            console.print(f"[red]error:[/red] {exc}")
            continue
        # The reply is the bot's text, not markup: escape it so "[" in an answer prints as is.
        console.print(f"[green]bot>[/green] {escape(reply.text)}", highlight=False)
        console.print(
            f"[dim]  {reply.source} · {reply.intent} {reply.confidence:.2f} · {reply.reason} · "
            f"{reply.timings_ms.get('total', 0):.0f} ms[/dim]"
        )


if __name__ == "__main__":
    sys.exit(main())
