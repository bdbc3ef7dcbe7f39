"""Command line.

``nbexplain dashboard`` (alias ``demo``) serves the demo dashboard with Voila: it builds or loads
the cached demo models first (with progress bars), so that Voila's kernel only loads them, then
starts Voila on localhost and prints the address.

``nbexplain reasons APPLICATIONS OUT`` writes adverse-action reasons for every denied applicant of
a CSV or Parquet file (one row each), chunk by chunk; ``--report DIR`` adds the validation report
(JSON and HTML) for the denied applicants of the first chunk.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._tensorflow import keras_module
from .credit.adverse import ReasonRecipe, read_chunks
from .credit.reasons import ReasonCatalogue
from .credit.recipes import BASELINE_CHOICES, documented_baselines
from .credit.validation import validate_reasons
from .datasets import load_demo
from .datasets.demo import demo_reasons, selection_experiment
from .engine import IntegratedGradients
from .engine.integrated import RULES
from .errors import NBExplainError
from .serve import VoilaServer, dashboard_notebook


def prepare_demo(selection: bool = True) -> None:
    """Train (first run) or load the demo models, and run the cached selection experiment."""
    for name in ("credit_fcn", "credit_lstm"):
        demo = load_demo(name)
        status = demo.record.get("cache", {}).get("status", "")
        print(
            f"{name}: {status} ({demo.record.get('cache', {}).get('path', '')}), "
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


def reason_explainer(args):
    """The reasons recipe the arguments describe: a demo model, or a saved Keras model with its
    reference file and reason catalogue."""
    steps = args.steps if args.steps == "auto" else int(args.steps)
    common = {"steps": steps, "rule": args.rule, "tolerance": args.tolerance}
    if args.model in ("credit_fcn", "credit_lstm"):
        catalogue = _catalogue(args.catalogue) if args.catalogue else None
        demo = load_demo(args.model)
        return demo_reasons(
            demo,
            baseline=args.baseline,
            cutoff=args.cutoff,
            band=args.band,
            draws=args.draws,
            max_reasons=args.max_reasons,
            catalogue=catalogue,
            **common,
        ), demo.rows(demo.train_rows)
    if not (args.reference and args.catalogue):
        raise NBExplainError(
            "A saved Keras model needs --reference FILE (rows of its inputs, the baseline's "
            "reference) and --catalogue JSON (its reason statements)."
        )
    import pandas as pd

    reference = pd.concat(list(read_chunks(args.reference, 100_000)))
    if args.id_column and args.id_column in reference.columns:
        reference = reference.set_index(args.id_column)
    model = keras_module().models.load_model(args.model, compile=False)
    explainer = IntegratedGradients(model, target=args.target, **common)
    baselines = documented_baselines(reference, cutoff=args.cutoff, band=args.band, draws=args.draws)
    return ReasonRecipe(
        explainer,
        baselines[args.baseline],
        _catalogue(args.catalogue),
        cutoff=args.cutoff,
        columns=list(reference.columns),
        max_reasons=args.max_reasons,
    ), reference


def _catalogue(path):
    return ReasonCatalogue.from_json(path)


def reasons(args) -> int:

    try:
        recipe, reference = reason_explainer(args)
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
    except NBExplainError as error:
        print(f"nbexplain reasons: {error}", file=sys.stderr)
        return 2
    return 0


def report(args, recipe, reference):
    """The validation report for the denied applicants of the first chunk of the file."""
    first = next(read_chunks(args.applications, args.validate_rows))
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nbexplain", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("dashboard", "demo"):
        command = commands.add_parser(name, help="serve the demo dashboard with Voila on localhost")
        command.add_argument("--port", type=int, default=8866, help="port to serve on (another if taken)")
        command.add_argument("--notebook", help="serve this notebook instead of the packaged dashboard")
        command.add_argument(
            "--skip-selection",
            action="store_true",
            help="do not run the selection experiment (test error against k) on first use",
        )
        command.add_argument("--check", action="store_true", help="start, print the address and stop (for tests)")
        command.set_defaults(run=dashboard)

    command = commands.add_parser("reasons", help="adverse-action reasons for every denied applicant of a file")
    command.add_argument("applications", help="CSV or Parquet file of applications (raw columns)")
    command.add_argument("out", help="output file, .csv or .parquet: one row per denied applicant")
    command.add_argument(
        "--model", default="credit_fcn", help="a demo model (credit_fcn, credit_lstm) or a saved Keras model (.keras)"
    )
    command.add_argument("--reference", help="rows of the model's inputs the baseline is built from (own models)")
    command.add_argument("--catalogue", help="reason catalogue JSON (required for own models)")
    command.add_argument("--target", type=int, help="output unit to explain (own models with several units)")
    command.add_argument(
        "--baseline",
        default="average",
        choices=sorted(BASELINE_CHOICES),
        help="documented baseline: " + ", ".join(f"{k} = {v}" for k, v in BASELINE_CHOICES.items()),
    )
    command.add_argument("--cutoff", type=float, default=0.5, help="applicants scoring at or above it are denied")
    command.add_argument("--band", type=float, default=0.05, help="cut-off cohort: scores within this of the cut-off")
    command.add_argument("--draws", type=int, default=100, help="baselines drawn from a reference set or cohort")
    command.add_argument("--steps", default="64", help="quadrature steps per path, or 'auto'")
    command.add_argument("--rule", default="gausslegendre", choices=RULES)
    command.add_argument("--tolerance", type=float, default=1e-6, help="completeness error aimed at by --steps auto")
    command.add_argument("--max-reasons", type=int, default=4)
    command.add_argument("--chunk-rows", type=int, default=5000, help="applications read and explained at a time")
    command.add_argument("--id-column", help="column that identifies an applicant (kept in the output)")
    command.add_argument("--report", help="also write the validation report (JSON, HTML) into this folder")
    command.add_argument("--validate-rows", type=int, default=2000, help="rows read for the validation report")
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.set_defaults(run=reasons)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
