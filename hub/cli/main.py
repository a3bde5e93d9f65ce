"""The `tongban` command. Each subcommand lives in its own module and runs alone."""
from __future__ import annotations

import argparse
import os
import sys

from hub import logs

from . import broker, commands, console, demo, dlq, dualtrack, log, output, partitions, payloads, report, sign, simctl


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tongban", description="Tongban Hub (通办): legacy systems to the unified "
                                "platform and the provincial node, with guaranteed delivery")
    p.add_argument("--config", help="settings file (default config/hub.yaml, or $TONGBAN_CONFIG)")
    p.add_argument("--log-format", choices=logs.FORMATS, default=None,
                   help="log lines as readable text (default) or one JSON object a line ($TONGBAN_LOG_FORMAT)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    simctl.register(sub)
    commands.register(sub)
    demo.register(sub)
    dlq.register(sub)
    dualtrack.register(sub)
    partitions.register(sub)
    console.register(sub)
    report.register(sub)
    log.register(sub)
    sign.register(sub)
    broker.register(sub)
    payloads.register(sub)
    for leaf in output.leaf_parsers(p):
        output.ensure_json_flag(leaf)
    return p


def main(argv: list[str] | None = None) -> int:
    # Before parsing: argparse's own errors quote the arguments. Not for dlq show --unmasked,
    # which is how who may see personal data sees it.
    if "--unmasked" not in (sys.argv[1:] if argv is None else argv):
        output.install()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_format:
        os.environ["TONGBAN_LOG_FORMAT"] = args.log_format   # worker processes log alike
    logs.setup()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`tongban dlq list | head`): what is left goes nowhere, quietly,
        # as for any Unix filter (the Python docs' recipe: stdout onto /dev/null, exit 141)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, KeyError, OSError) as exc:
        print(f"tongban {args.command}: {exc}", file=sys.stderr)
        return 2
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()


if __name__ == "__main__":
    sys.exit(main())
