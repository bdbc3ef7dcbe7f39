"""Command line.

``nbexplain dashboard`` (alias ``demo``) serves the demo dashboard with Voila: it builds or loads
the cached demo models first (with progress bars), so that Voila's kernel only loads them, then
starts Voila on localhost and prints the address. ``--notebook`` serves a notebook of your own.
``--ip ADDRESS`` serves beyond this machine, behind a token (generated unless ``--token`` gives
one); idle kernels of closed pages are shut down (``--cull-idle``) and at most ``--max-kernels``
viewers are served at once.

``nbexplain reasons APPLICATIONS OUT`` writes adverse-action reasons for every denied applicant of
a CSV or Parquet file (one row each), chunk by chunk, all-or-nothing; ``--report DIR`` adds the
validation report (JSON and HTML). Given a partitioned book (a folder, glob or URL of CSV /
Parquet files) it writes one Parquet file per partition into the folder OUT with a manifest, on a
local Dask cluster (``--workers N``), an existing one (``--scheduler ADDRESS``) or partition by
partition; running the same command again finishes an interrupted run. ``nbexplain
reasons-check OUT`` (alias ``check``) checks such a folder: one row per denied applicant, nothing
lost, nothing doubled.

Every command stops cleanly on Ctrl-C, SIGTERM and SIGHUP: no partial output, no server or kernel
left running, a one-line message and the exit status ``128 + signal``. A bad argument or bad
input is a one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from ._commands import number, port, run_command, steps
from ._files import file_sha256, writable_folder
from ._tables import read_table
from .batch import IMPORTANCE, BatchRecipe, check_output, explain_book, is_partitioned
from .credit.adverse import ReasonRecipe, reference_ranges
from .credit.evidence import write_evidence_pack
from .credit.reasons import ReasonCatalogue
from .credit.recipes import BASELINE_CHOICES, documented_baselines
from .credit.validation import validate_reasons
from .datasets import load_demo
from .datasets.demo import DEMOS, demo_reasons, selection_experiment
from .engine._quadrature import RULES
from .engine.protocol import attributor_for
from .errors import NBExplainError, unknown_name
from .model.artifact import InputRecipe, is_artifact, load_model_file
from .results.bundle import open_bundle
from .serve import PortInUseError, VoilaServer, bundle_notebook, dashboard_notebook
from .widgets.bundle import bundle_for_files, check_bundle_model
from .widgets.demo import demo_bundle


# ----------------------------------------------------------------- dashboard
def prepare_demo(selection: bool = True) -> None:
    """Train (first run) or load the demo models (the networks, the gradient-boosted model and the
    stacked ensemble), run the cached selection experiment, and build (or check) the explanation
    bundles the served dashboard opens without TensorFlow."""
    for name in DEMOS:
        demo = load_demo(name)
        cache = demo.record.get("cache", {})
        auc = demo.record.get("test_auc")
        print(
            f"{name}: {cache.get('status', '')} ({cache.get('path', '')}), "
            f"test error {demo.record.get('test_error', float('nan')):.2%}"
            + ("" if auc is None else f", test AUC {auc:.3f}"),
            flush=True,
        )
        if selection and name == "credit_fcn":
            errors = selection_experiment(demo)
            print(
                "selection experiment (test error by top-k features): "
                + ", ".join(f"k={k}: {e:.2%}" for k, e in errors.items()),
                flush=True,
            )
        print(f"{name}: explanation bundle {demo_bundle(name)}", flush=True)


def add_serving_arguments(command) -> None:
    """The options of a command that serves a dashboard with Voila (see :func:`serve_dashboard`)."""
    command.add_argument(
        "--port", type=port, default=8866, help="port to serve on; 0: any free port (a port in use is an error)"
    )
    room = command.add_argument_group("serving to a room")
    room.add_argument(
        "--ip",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to serve on (default 127.0.0.1: this machine only); any other, e.g. 0.0.0.0 for all of "
        "this machine's addresses, needs a token",
    )
    tokens = room.add_mutually_exclusive_group()
    tokens.add_argument(
        "--token", help="the access token viewers' addresses carry (default: a random one beyond localhost)"
    )
    tokens.add_argument("--no-token", action="store_true", help="serve without a token (refused beyond localhost)")
    room.add_argument(
        "--allow-no-token",
        action="store_true",
        help="with --no-token: serve beyond localhost without a token, knowing that anyone who can reach this "
        "machine can open the dashboard",
    )
    room.add_argument(
        "--cull-idle",
        type=number(int, low=0),
        default=300,
        metavar="SECONDS",
        help="shut down a kernel whose page was closed after it has been idle this long (default 300; 0: never)",
    )
    room.add_argument(
        "--max-kernels",
        type=number(int, low=0),
        default=20,
        metavar="N",
        help="serve at most N viewers (kernels) at once; others get a 'try again' page (default 20; 0: no cap)",
    )
    room.add_argument(
        "--preheat",
        type=number(int, low=0),
        default=0,
        metavar="N",
        help="keep N kernels that have already run the dashboard waiting, so that the next N viewers get their "
        "page at once (each one taken is replaced; each holds its memory while it waits; default 0)",
    )


def serve_dashboard(args, notebook) -> int:
    """Serve a notebook as the serving arguments say, print its address, and wait until stopped
    (``--check``: stop at once). ``notebook`` is its path, or a function that prepares it (trains,
    builds a bundle) and returns its path: run only once the arguments are known to be servable."""
    token = VoilaServer.access_token(args.ip, "" if args.no_token else args.token, args.allow_no_token)
    if callable(notebook):
        notebook = notebook()
    try:
        server = VoilaServer(
            notebook,
            port=args.port,
            ip=args.ip,
            token=token,
            allow_no_token=args.allow_no_token,
            cull_idle=args.cull_idle,
            max_kernels=args.max_kernels,
            preheat=args.preheat,
        )
        server.start()
    except PortInUseError as error:
        raise NBExplainError(
            f"port {error.port} on {error.host or 'all addresses'} is already in use by another program: stop it, "
            "choose another with --port N, or use --port 0 for any free port."
        ) from None
    try:
        print(f"\nThe nbexplain dashboard is at {server.shared_url}  (Ctrl-C stops it)", flush=True)
        if not server.local:
            print(f"On this machine: {server.url}")
            if server.token:
                print("Anyone with this address (token included) can open the dashboard: give it to its viewers only.")
            else:
                print(
                    f"WARNING: served on {args.ip or 'all addresses'} without a token: anyone who can reach this "
                    "machine can open the dashboard.",
                    file=sys.stderr,
                )
        culling = f"after {args.cull_idle} s idle" if args.cull_idle else "never (--cull-idle 0)"
        viewers = f"at most {args.max_kernels} viewers at once" if args.max_kernels else "no cap on viewers"
        waiting = f"; {args.preheat} kernels run the dashboard ahead of viewers" if args.preheat else ""
        print(f"Kernels of closed pages are shut down {culling}; {viewers}{waiting}.\n", flush=True)
        return 0 if args.check else server.wait()
    finally:
        server.stop()


def dashboard(args) -> int:
    """Serve the demo dashboard, a saved model on a data file, or a given notebook, until stopped."""
    return serve_dashboard(args, lambda: _dashboard_notebook(args))


def _dashboard_notebook(args) -> Path:
    """The notebook to serve: the user's own, the dashboard of their model on their data (its
    bundle built or reused first), or the packaged demo (its models and bundles prepared first)."""
    if args.notebook:
        notebook = Path(args.notebook)
        if not notebook.is_file():
            raise NBExplainError(f"{notebook} does not exist; give the path of a notebook (.ipynb) to serve.")
        return notebook
    if args.bundle:
        bundle = Path(args.bundle)
        if args.data:
            raise NBExplainError(
                "--bundle serves the rows the bundle holds: drop --data (or drop --bundle to build one)."
            )
        open_bundle(bundle)  # an error now if it is not a bundle
        if args.model:
            check_bundle_model(bundle, args.model)
        return bundle_notebook(bundle, model=args.model)
    if args.model or args.data:
        if not (args.model and args.data):
            raise NBExplainError("Serving your own model needs both --model FILE and --data FILE.")
        bundle = _own_bundle(args, progress=True)
        return bundle_notebook(bundle)
    prepare_demo(selection=not args.skip_selection)
    return dashboard_notebook()


def _own_bundle(args, progress: bool, out=None) -> Path:
    catalogue = ReasonCatalogue.from_json(args.catalogue) if args.catalogue else None
    return bundle_for_files(
        args.model,
        args.data,
        out=out,
        progress=progress,
        target=args.target,
        outcome_column=args.outcome,
        catalogue=catalogue,
        threshold=args.threshold,
    )


def bundle_command(args) -> int:
    """Build (or reuse) the explanation bundle of a saved model on a data file."""
    path = _own_bundle(args, progress=not args.quiet, out=args.out)
    print(f"explanation bundle: {path}")
    return 0


def report_command(args) -> int:
    """Write the evidence pack of a bundle: one self-contained HTML file."""
    path = write_evidence_pack(args.bundle, args.out)
    print(f"evidence pack: {path}")
    return 0


# ----------------------------------------------------------------- reasons
#: Column names that hold an outcome, not a feature: refused by name in a reference file.
TARGET_NAMES = (
    "default",
    "default.payment.next.month",
    "default payment next month",
    "target",
    "y",
    "label",
    "class",
    "outcome",
    "riskperformance",
    "bad",
)


def reference_rows(path, id_column=None):
    """The reference file as raw rows (its id column, if any, as the index)."""
    reference = read_table(path)
    if id_column and id_column in reference.columns:
        reference = reference.set_index(id_column)
    return reference


def reason_recipe(args):
    """The reasons recipe the arguments describe, the model inputs of its reference rows, and the
    model file it stands for: a demo model, a saved model artifact (``.nbx``: the network with its
    preprocessing), or a plain Keras model that reads raw columns."""
    recipe, reference, model, _ = _reason_recipe(args)
    return recipe, reference, model


def _reason_recipe(args):
    """:func:`reason_recipe` and the model artifact the recipe explains."""
    common = {"steps": args.steps, "rule": args.rule, "tolerance": args.tolerance}
    catalogue = ReasonCatalogue.from_json(args.catalogue) if args.catalogue else None
    options = {"cutoff": args.cutoff, "max_reasons": args.max_reasons}
    if args.model in DEMOS:
        demo = load_demo(args.model)
        recipe = demo_reasons(
            demo, baseline=args.baseline, band=args.band, draws=args.draws, catalogue=catalogue, **options, **common
        )
        cache = Path(demo.record["cache"]["path"])
        return (
            recipe,
            demo.rows(demo.train_rows),
            {"file": f"demo model {args.model}: {cache}", "sha256": file_sha256(cache)},
            demo.artifact,
        )
    path = Path(args.model)
    if not path.exists() and not (path.suffix or "/" in args.model):
        raise unknown_name("demo model (or a path to a saved model)", args.model, DEMOS)
    if not (args.reference and catalogue is not None):
        raise NBExplainError(
            "A saved model needs --reference FILE (rows the baseline is built from, as downloaded) "
            "and --catalogue JSON (its reason statements)."
        )
    raw = reference_rows(args.reference, args.id_column)
    artifact = load_model_file(
        path,
        unsafe=args.unsafe_load,
        columns=[str(c) for c in raw.columns],
        target=_unit(args.target),
    )
    artifact = _without_target(artifact, raw, args.reference)
    explainer = attributor_for(artifact, **common)
    recipe = ReasonRecipe(
        explainer,
        documented_baselines(artifact.to_inputs(raw), cutoff=args.cutoff, band=args.band, draws=args.draws)[
            args.baseline
        ],
        catalogue,
        to_inputs=artifact.to_inputs,
        columns=artifact.features,
        elements=artifact.elements() if artifact.several_inputs else None,
        ranges=reference_ranges(raw, artifact.features),
        **options,
    )
    return recipe, artifact.to_inputs(raw), {"file": str(path), "sha256": artifact.sha256}, artifact


def _unit(target):
    """A ``--target`` as given: an output unit or class number, or a label."""
    return int(target) if target is not None and str(target).isdigit() else target


def _without_target(artifact, raw, path):
    """A plain Keras model reads the reference columns as they are: one column more than it
    takes, named like an outcome, is dropped (and said); any other mismatch is refused by name.
    Artifacts and tree models find their columns by name."""
    if artifact.kind != "keras" or is_artifact(artifact.path):
        return artifact
    width = _model_width(artifact.model)
    if width is None or raw.shape[1] == width:
        return artifact
    outcome = [c for c in raw.columns if str(c).strip().lower() in TARGET_NAMES]
    if raw.shape[1] == width + 1 and len(outcome) == 1:
        print(
            f"nbexplain reasons: the reference column {outcome[0]!r} is an outcome, not a feature: dropped.",
            file=sys.stderr,
        )
        columns = tuple(str(c) for c in raw.columns if c != outcome[0])
        recipe = InputRecipe("input", columns, np.zeros(width), np.ones(width))
        return dataclasses.replace(artifact, inputs=(recipe,))
    raise NBExplainError(
        f"{path} has {raw.shape[1]} columns {[str(c) for c in raw.columns][:30]} but the model reads "
        f"{width} features" + (f"; drop the outcome column(s) {outcome}" if outcome else "") + "."
    )


def _model_width(model):
    """The number of features a one-input tabular model reads, or None."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    shapes = [tuple(t.shape[1:]) for t in inputs or []]
    return int(shapes[0][0]) if len(shapes) == 1 and len(shapes[0]) == 1 and shapes[0][0] else None


def reasons(args) -> int:
    """Write the reasons file (and the report); a summary on stdout. Exit status 3 when some
    denied applicant's attributions do not add up within the tolerance (unless accepted).
    Partitioned input (a folder, a glob, a URL), ``--workers`` or ``--scheduler``: the batch
    run of :func:`book_reasons`."""
    if is_partitioned(args.applications) or args.workers is not None or args.scheduler is not None:
        return book_reasons(args)
    if args.report:
        folder = Path(args.report)
        if folder.exists() and not folder.is_dir():
            raise NBExplainError(f"--report {folder} is a file; give a folder for the report (it is created).")
        writable_folder(folder / "reason_validation.json" if folder.exists() else folder)
    recipe, reference, model = reason_recipe(args)
    summary = recipe.explain_file(
        args.applications, args.out, chunk_rows=args.chunk_rows, id_column=args.id_column, progress=not args.quiet
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "baseline"}, indent=2))
    _warnings(summary)
    if args.report:
        report(args, recipe, reference, model, summary)
    return _completeness_status(args, summary)


def _warnings(summary) -> None:
    """What a reasons run found that a person must look at."""
    if summary["prohibited_material"]:
        print(
            f"WARNING: {summary['prohibited_material']} denied applicant(s) have a decision that leans materially "
            "on a prohibited basis (columns prohibited_material, prohibited_material_bases); review the model.",
            file=sys.stderr,
        )
    if summary["outside_reference"]:
        print(
            f"WARNING: {summary['outside_reference']} denied applicant(s) have values outside the reference "
            "data's range (column outside_reference): check that the file and the reference are on the same "
            "scale and preprocessing.",
            file=sys.stderr,
        )


def _completeness_status(args, summary) -> int:
    """Exit status 3 when some attributions do not add up (unless accepted), else 0."""
    if summary["incomplete"] and not args.accept_incomplete:
        print(
            f"nbexplain reasons: {summary['incomplete']} of {summary['denied']} denied applicants have attributions "
            f"that do not add up to their score difference within {args.tolerance:g} (largest error "
            f"{summary['max_completeness_error']:.3g}; column completeness_ok). Their reasons are not reliable: "
            "use more --steps or --steps auto, check that the model is given the inputs it was trained on (its "
            "preprocessing), or pass --accept-incomplete to accept them knowingly.",
            file=sys.stderr,
        )
        return 3
    return 0


def book_reasons(args) -> int:
    """Reasons for a partitioned book (a folder, glob or URL of CSV / Parquet files): one Parquet
    file per partition in the folder OUT with a manifest, on a local Dask cluster (``--workers
    N``), an existing one (``--scheduler ADDRESS``) or partition by partition here. Running the
    same command again finishes an interrupted run. Exit status 4 when the finished folder fails
    its check (:func:`~nbexplain.batch.check_output`)."""
    if args.report:
        raise NBExplainError(
            "--report validates the reasons of one file: for a partitioned book, run nbexplain reasons --report on "
            "one partition (or on a sample of applications saved as one file)."
        )
    recipe, reference, model, artifact = _reason_recipe(args)
    path = Path(args.model)
    book = BatchRecipe.from_reasons(
        recipe,
        artifact,
        reference=reference,
        model_file=path if path.is_file() else None,
        source=model["file"],
        file_sha256=model["sha256"],
        baseline=args.baseline,
        id_column=args.id_column,
        importance=args.importance,
        unsafe=args.unsafe_load,
    )
    summary = explain_book(
        args.applications,
        args.out,
        book,
        workers=args.workers,
        scheduler=args.scheduler,
        chunk_rows=args.chunk_rows,
        progress=not args.quiet,
    )
    checked = check_output(args.out)
    summary["check"] = "OK" if checked.ok else checked.problems
    print(json.dumps(summary, indent=2))
    _warnings(summary)
    if not checked.ok:
        print(str(checked), file=sys.stderr)
        return 4
    return _completeness_status(args, summary)


def check_command(args) -> int:
    """Check a batch output folder; exit status 1 when it has a problem."""
    checked = check_output(args.out, inputs=args.inputs)
    print(str(checked))
    return 0 if checked.ok else 1


def report(args, recipe, reference, model, summary) -> None:
    """The validation report: every denied applicant of the file, or a random sample when asked."""
    applications = read_table(args.applications)
    if args.id_column:
        applications = applications.set_index(args.id_column)
    denied = applications[recipe.denied(recipe.explainer.score(recipe.inputs(applications)))]
    if len(denied) == 0:
        print(f"No denied applicant among the {len(applications)} rows: no validation report.", file=sys.stderr)
        return
    selection = f"all {len(denied)} denied applicants of the file"
    if args.report_sample and args.report_sample < len(denied):
        chosen = np.sort(np.random.default_rng(args.report_seed).choice(len(denied), args.report_sample, replace=False))
        denied = denied.iloc[chosen]
        selection = (
            f"a random sample of {args.report_sample} of the {summary['denied']} denied applicants "
            f"(seed {args.report_seed})"
        )
    alternatives = {
        k: b
        for k, b in documented_baselines(reference, cutoff=args.cutoff, band=args.band, draws=args.draws).items()
        if k != args.baseline
    }
    source = {"file": str(Path(args.applications)), "sha256": summary["input_sha256"], "rows": summary["rows"]}
    validation = validate_reasons(
        recipe, denied, baselines=alternatives, progress=not args.quiet, source=source, model=model, selection=selection
    )
    folder = Path(args.report)
    folder.mkdir(parents=True, exist_ok=True)
    validation.to_json(folder / "reason_validation.json")
    validation.to_html(folder / "reason_validation.html")
    verdicts = ", ".join(f"{name}: {verdict}" for name, verdict in validation.verdicts.items())
    print(f"validation report ({len(denied)} denied applicants; {verdicts}): {folder / 'reason_validation.html'}")


# ----------------------------------------------------------------- the parser
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="nbexplain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = top.add_subparsers(dest="command", required=True)
    for name in ("dashboard", "demo"):
        command = commands.add_parser(
            name,
            help="serve the demo dashboard, your model on your data, or your notebook, with Voila (on localhost "
            "unless --ip says otherwise)",
        )
        _own_model_arguments(command, required=False)
        command.add_argument("--notebook", help="serve this notebook instead of the packaged dashboard")
        command.add_argument(
            "--bundle",
            help="serve this explanation bundle (from nbexplain bundle); with --model, that model file answers "
            "what-if edits (refused unless it is the model the bundle was built from)",
        )
        command.add_argument(
            "--skip-selection",
            action="store_true",
            help="do not run the selection experiment (test error against k) on first use",
        )
        command.add_argument("--check", action="store_true", help="start, print the address and stop (for tests)")
        add_serving_arguments(command)
        command.set_defaults(run=dashboard)

    command = commands.add_parser(
        "bundle", help="build the explanation bundle of a saved model on a data file or a book's partitions"
    )
    _own_model_arguments(command, required=True)
    command.add_argument("--out", help="the bundle folder to write (default: in the cache, keyed by both files)")
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.set_defaults(run=bundle_command)
    command = commands.add_parser("report", help="write the evidence pack (one HTML file) of an explanation bundle")
    command.add_argument("bundle", help="an explanation bundle folder (.nbxbundle)")
    command.add_argument("out", help="the HTML file to write")
    command.set_defaults(run=report_command)

    positive = number(float, low=0, strict_low=True)
    count = number(int, low=1)
    command = commands.add_parser("reasons", help="adverse-action reasons for every denied applicant of a file")
    command.add_argument(
        "applications",
        help="CSV or Parquet file of applications (raw columns); or a partitioned book: a folder, a glob "
        "('book/*.parquet') or an fsspec URL ('s3://bucket/book/') of CSV / Parquet files",
    )
    command.add_argument(
        "out",
        help="output file, .csv or .parquet: one row per denied applicant; for a partitioned book, a folder (one "
        "Parquet file per partition and a manifest; run the same command again to finish an interrupted run)",
    )
    cluster = command.add_argument_group("a partitioned book on Dask")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=number(int, low=1),
        metavar="N",
        help="start a local Dask cluster of N worker processes (one thread each)",
    )
    where.add_argument("--scheduler", metavar="ADDRESS", help="use the Dask cluster at this scheduler address")
    cluster.add_argument(
        "--importance",
        default="denied",
        choices=sorted(IMPORTANCE),
        help="global importance written with a book: " + "; ".join(f"{k} = {v}" for k, v in IMPORTANCE.items()),
    )
    command.add_argument(
        "--model",
        default="credit_fcn",
        help="a demo model (credit_fcn, credit_lstm, credit_xgb, credit_stack), a saved model artifact (.nbx: a "
        "network with its preprocessing, a tree model or a stack, from DemoModel.save or ModelArtifact.save), a Keras "
        "model that reads raw columns (.keras), an XGBoost model file (.json, .ubj) or a LightGBM model file (.txt)",
    )
    command.add_argument(
        "--unsafe-load",
        action="store_true",
        help="run Python code stored in the model file (Keras Lambda layers, a pickled tree model); only for files "
        "you trust: such code is refused by default",
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
    command.add_argument(
        "--report-sample",
        type=count,
        help="validate a random sample of this many denied applicants (default: all of them)",
    )
    command.add_argument("--report-seed", type=number(int, low=0), default=0, help="seed of --report-sample")
    command.add_argument(
        "--accept-incomplete",
        action="store_true",
        help="exit 0 even when some applicants' attributions exceed the completeness tolerance",
    )
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.set_defaults(run=reasons)
    command = commands.add_parser(
        "reasons-check",
        aliases=["check"],
        help="check the output folder of reasons for a partitioned book: one row per denied applicant, no partition "
        "lost, damaged or doubled (exit status 1 on a problem)",
    )
    command.add_argument("out", help="the output folder of nbexplain reasons on a partitioned book")
    command.add_argument("--inputs", action="store_true", help="also read every input again and compare its SHA-256")
    command.set_defaults(run=check_command)
    return top


def _own_model_arguments(command, required: bool) -> None:
    """The arguments that name a user's model and data (the dashboard and bundle commands)."""
    command.add_argument(
        "--model",
        required=required,
        help="a saved model artifact (.nbx: a network with its preprocessing, a tree model or a stack), a Keras model "
        "that reads the data's columns, an XGBoost model file (.json, .ubj) or a LightGBM model file (.txt)",
    )
    command.add_argument(
        "--data",
        required=required,
        help="CSV or Parquet rows of the model's raw columns, or a folder, glob or fsspec URL of such files (a book's "
        "partitions, read in name order)",
    )
    command.add_argument("--target", help="the output unit to explain (index or class label)")
    command.add_argument("--outcome", help="the data's true-outcome column (0/1), if any (found by name otherwise)")
    command.add_argument("--catalogue", help="reason catalogue JSON (default: one reason per column)")
    command.add_argument(
        "--threshold", type=number(float), default=0.5, help="the worst passing score: outcome 1 is predicted above it"
    )


def main(argv=None) -> int:
    """Run a command; errors and signals end it with a one-line message and an exit status."""
    args = parser().parse_args(argv)
    return run_command(f"nbexplain {args.command}", lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
