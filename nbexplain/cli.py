"""Command line.

``nbexplain dashboard`` (alias ``demo``) serves the demo dashboard with Voila: it builds or loads
the cached demo models first (with progress bars), so that Voila's kernel only loads them, then
starts Voila on localhost and prints the address. ``--notebook`` serves a notebook of your own.

``nbexplain reasons APPLICATIONS OUT`` writes adverse-action reasons for every denied applicant of
a CSV or Parquet file (one row each), chunk by chunk, all-or-nothing; ``--report DIR`` adds the
validation report (JSON and HTML).

Every command stops cleanly on Ctrl-C, SIGTERM and SIGHUP: no partial output, no server or kernel
left running, a one-line message and the exit status ``128 + signal``. A bad argument or bad
input is a one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._commands import number, port, run_command, steps
from ._files import writable_folder
from ._tables import read_table
from .credit.adverse import ReasonRecipe
from .credit.reasons import ReasonCatalogue
from .credit.recipes import BASELINE_CHOICES, documented_baselines
from .credit.validation import validate_reasons
from .datasets import load_demo
from .datasets.demo import DEMOS, demo_reasons, selection_experiment
from .engine import IntegratedGradients
from .engine._quadrature import RULES
from .errors import NBExplainError, unknown_name
from .model._keras import load_keras_model
from .serve import VoilaServer, dashboard_notebook


# ----------------------------------------------------------------- dashboard
def prepare_demo(selection: bool = True) -> None:
    """Train (first run) or load the demo models, and run the cached selection experiment."""
    for name in DEMOS:
        demo = load_demo(name)
        cache = demo.record.get("cache", {})
        print(
            f"{name}: {cache.get('status', '')} ({cache.get('path', '')}), "
            f"test error {demo.record.get('test_error', float('nan')):.2%}",
            flush=True,
        )
        if selection and name == "credit_fcn":
            errors = selection_experiment(demo)
            print(
                "selection experiment (test error by top-k features): "
                + ", ".join(f"k={k}: {e:.2%}" for k, e in errors.items()),
                flush=True,
            )


def dashboard(args) -> int:
    """Serve the demo dashboard (its models prepared first) or the given notebook, until stopped."""
    if args.notebook:
        notebook = Path(args.notebook)
        if not notebook.is_file():
            raise NBExplainError(f"{notebook} does not exist; give the path of a notebook (.ipynb) to serve.")
    else:
        prepare_demo(selection=not args.skip_selection)
        notebook = dashboard_notebook()
    with VoilaServer(notebook, port=args.port) as server:
        print(f"\nThe nbexplain dashboard is at {server.url}  (Ctrl-C stops it)\n", flush=True)
        return 0 if args.check else server.wait()


# ----------------------------------------------------------------- reasons
def reason_recipe(args):
    """The reasons recipe the arguments describe, and the reference rows of its baselines: a demo
    model, or a saved Keras model with its reference file and reason catalogue."""
    common = {"steps": args.steps, "rule": args.rule, "tolerance": args.tolerance}
    catalogue = ReasonCatalogue.from_json(args.catalogue) if args.catalogue else None
    if args.model in DEMOS:
        demo = load_demo(args.model)
        recipe = demo_reasons(
            demo,
            baseline=args.baseline,
            cutoff=args.cutoff,
            band=args.band,
            draws=args.draws,
            max_reasons=args.max_reasons,
            catalogue=catalogue,
            **common,
        )
        return recipe, demo.rows(demo.train_rows)
    path = Path(args.model)
    if not path.exists() and not (path.suffix or "/" in args.model):
        raise unknown_name("demo model (or a path to a saved Keras model)", args.model, DEMOS)
    if not (args.reference and catalogue is not None):
        raise NBExplainError(
            "A saved Keras model needs --reference FILE (rows of its inputs, the baseline's "
            "reference) and --catalogue JSON (its reason statements)."
        )
    reference = read_table(args.reference)
    if args.id_column and args.id_column in reference.columns:
        reference = reference.set_index(args.id_column)
    model = load_keras_model(path, unsafe=args.unsafe_load)
    features = [str(c) for c in reference.columns]
    explainer = IntegratedGradients(model, target=args.target, feature_names=features, **common)
    baselines = documented_baselines(reference, cutoff=args.cutoff, band=args.band, draws=args.draws)
    recipe = ReasonRecipe(
        explainer,
        baselines[args.baseline],
        catalogue,
        cutoff=args.cutoff,
        columns=features,
        max_reasons=args.max_reasons,
    )
    return recipe, reference


def reasons(args) -> int:
    """Write the reasons file (and the report); a summary on stdout."""
    if args.report:
        folder = Path(args.report)
        if folder.exists() and not folder.is_dir():
            raise NBExplainError(f"--report {folder} is a file; give a folder for the report (it is created).")
        writable_folder(folder / "reason_validation.json" if folder.exists() else folder)
    recipe, reference = reason_recipe(args)
    summary = recipe.explain_file(
        args.applications, args.out, chunk_rows=args.chunk_rows, id_column=args.id_column, progress=not args.quiet
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "baseline"}, indent=2))
    if summary["prohibited_material"]:
        print(
            f"WARNING: {summary['prohibited_material']} denied applicant(s) have a score that leans materially "
            "on a prohibited basis (column prohibited_material); review the model.",
            file=sys.stderr,
        )
    if args.report:
        report(args, recipe, reference)
    return 0


def report(args, recipe, reference) -> None:
    """The validation report for the denied applicants among the first ``--validate-rows`` rows."""
    first = read_table(args.applications, max_rows=args.validate_rows)
    if args.id_column:
        first = first.set_index(args.id_column)
    denied = first[recipe.denied(recipe.explainer.score(recipe.inputs(first)))]
    if len(denied) == 0:
        print(f"No denied applicant among the first {len(first)} rows: no validation report.", file=sys.stderr)
        return
    alternatives = {
        k: b
        for k, b in documented_baselines(reference, cutoff=args.cutoff, band=args.band, draws=args.draws).items()
        if k != args.baseline
    }
    validation = validate_reasons(recipe, denied, baselines=alternatives, progress=not args.quiet)
    folder = Path(args.report)
    folder.mkdir(parents=True, exist_ok=True)
    validation.to_json(folder / "reason_validation.json")
    validation.to_html(folder / "reason_validation.html")
    print(f"validation report ({len(denied)} denied applicants): {folder / 'reason_validation.html'}")


# ----------------------------------------------------------------- the parser
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="nbexplain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = top.add_subparsers(dest="command", required=True)
    for name in ("dashboard", "demo"):
        command = commands.add_parser(name, help="serve the demo dashboard (or your notebook) with Voila on localhost")
        command.add_argument("--port", type=port, default=8866, help="port to serve on (another if taken)")
        command.add_argument("--notebook", help="serve this notebook instead of the packaged dashboard")
        command.add_argument(
            "--skip-selection",
            action="store_true",
            help="do not run the selection experiment (test error against k) on first use",
        )
        command.add_argument("--check", action="store_true", help="start, print the address and stop (for tests)")
        command.set_defaults(run=dashboard)

    positive = number(float, low=0, strict_low=True)
    count = number(int, low=1)
    command = commands.add_parser("reasons", help="adverse-action reasons for every denied applicant of a file")
    command.add_argument("applications", help="CSV or Parquet file of applications (raw columns)")
    command.add_argument("out", help="output file, .csv or .parquet: one row per denied applicant")
    command.add_argument(
        "--model", default="credit_fcn", help="a demo model (credit_fcn, credit_lstm) or a saved Keras model (.keras)"
    )
    command.add_argument(
        "--unsafe-load",
        action="store_true",
        help="let Keras run Python code stored in the model file (Lambda layers); only for files "
        "you trust: Keras' safe mode refuses such code by default",
    )
    command.add_argument("--reference", help="rows of the model's inputs the baseline is built from (own models)")
    command.add_argument("--catalogue", help="reason catalogue JSON (required for own models)")
    command.add_argument("--target", type=number(int, low=0), help="output unit to explain (own models)")
    command.add_argument(
        "--baseline",
        default="average",
        choices=sorted(BASELINE_CHOICES),
        help="documented baseline: " + ", ".join(f"{k} = {v}" for k, v in BASELINE_CHOICES.items()),
    )
    command.add_argument(
        "--cutoff",
        type=number(float),
        default=0.5,
        help="the worst passing score: applicants scoring above it are denied",
    )
    command.add_argument(
        "--band", type=positive, default=0.05, help="cut-off cohort: scores within this of the cut-off"
    )
    command.add_argument("--draws", type=count, default=100, help="baselines drawn from a reference set or cohort")
    command.add_argument("--steps", type=steps, default=64, help="quadrature steps per path (>= 1), or 'auto'")
    command.add_argument("--rule", default="gausslegendre", choices=RULES)
    command.add_argument("--tolerance", type=positive, default=1e-6, help="completeness error aimed at by --steps auto")
    command.add_argument("--max-reasons", type=count, default=4)
    command.add_argument("--chunk-rows", type=count, default=5000, help="applications read and explained at a time")
    command.add_argument("--id-column", help="column that identifies an applicant (kept in the output)")
    command.add_argument("--report", help="also write the validation report (JSON, HTML) into this folder")
    command.add_argument("--validate-rows", type=count, default=2000, help="rows read for the validation report")
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.set_defaults(run=reasons)
    return top


def main(argv=None) -> int:
    """Run a command; errors and signals end it with a one-line message and an exit status."""
    args = parser().parse_args(argv)
    return run_command(f"nbexplain {args.command}", lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
