"""Command line: ``nbexplain dashboard`` (alias ``demo``) serves the demo dashboard with Voila.

It builds or loads the cached demo models first (with progress bars), so that Voila's kernel
only loads them, then starts Voila on localhost and prints the address.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def prepare_demo(selection: bool = True) -> None:
    """Train (first run) or load the demo models, and run the cached selection experiment."""
    from .datasets import load_demo
    from .datasets.demo import selection_experiment

    for name in ("credit_fcn", "credit_lstm"):
        demo = load_demo(name)
        status = demo.record.get("cache", {}).get("status", "")
        print(f"{name}: {status} ({demo.record.get('cache', {}).get('path', '')}), "
              f"test error {demo.record.get('test_error', float('nan')):.2%}", flush=True)
        if selection and name == "credit_fcn":
            errors = selection_experiment(demo)
            print("selection experiment (test error by top-k features): "
                  + ", ".join(f"k={k}: {e:.2%}" for k, e in errors.items()), flush=True)


def dashboard(args) -> int:
    from .serve import VoilaServer, dashboard_notebook

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    prepare_demo(selection=not args.skip_selection)
    notebook = Path(args.notebook) if args.notebook else dashboard_notebook()
    try:
        with VoilaServer(notebook, port=args.port) as server:
            print(f"\nThe nbexplain dashboard is at {server.url}  (Ctrl-C stops it)\n", flush=True)
            return 0 if args.check else server.wait()
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(error, file=sys.stderr)
        return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nbexplain", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("dashboard", "demo"):
        command = commands.add_parser(name, help="serve the demo dashboard with Voila on localhost")
        command.add_argument("--port", type=int, default=8866, help="port to serve on (another if taken)")
        command.add_argument("--notebook", help="serve this notebook instead of the packaged dashboard")
        command.add_argument("--skip-selection", action="store_true",
                             help="do not run the selection experiment (test error against k) on first use")
        command.add_argument("--check", action="store_true", help="start, print the address and stop (for tests)")
        command.set_defaults(run=dashboard)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
