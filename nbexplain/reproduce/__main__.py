"""``python -m nbexplain.reproduce credit [--data PATH]`` / ``... simulation``: print the paper's
tables and write its figures. ``... fico [--data heloc_dataset_v1.csv]``: the FICO Explainable ML
Challenge entry (Chen et al. 2018): its model's test accuracy and AUC beside two references, and
its three explanations for a few applicants."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._commands import number, run_command
from . import credit, simulation
from .figures import save_figure


def _credit(args) -> int:
    result = credit.run(
        args.data,
        repeats=args.repeats,
        epochs=args.epochs,
        lime_instances=args.lime_instances,
        share=args.share,
        seed=args.seed,
    )
    record = result.meta["model_record"]
    print(f"\nData: {result.meta['data']} ({result.meta['n_train']} train / {result.meta['n_test']} test rows)")
    print(
        f"FCN (64 tanh, l1 0.01): {record['epochs']} epochs, train error {record['train_error']:.2%}, "
        f"test error {record['test_error']:.2%} ({record['cache']['status']} from {record['cache']['path']})"
    )
    print("\nFigures 2 and 3: share of importance (%) and rank by method")
    print(result.rankings().round(2).to_string())
    if result.lime is None:
        print("\n(LIME skipped: install it with pip install 'nbexplain[comparisons]', or --lime-instances was 0)")
    print("\nTime taken (seconds)")
    print(result.timings().round(3).to_string())
    print(
        f"\nFeatures covering {args.share:g} % of the importance ({len(result.selected)} of "
        f"{len(result.importance.values)}): {', '.join(result.selected)}"
    )
    print(f"\nTable 1: error rates over {args.repeats} trainings (mean, standard deviation)")
    print(result.table1.summary().to_string(float_format=lambda v: f"{v:.4f}"))
    written = result.save(args.out)
    print(f"\nWrote {len(written)} files to {Path(args.out).resolve()}")
    return 0


def _simulation(args) -> int:
    result = simulation.run(n=args.rows, seed=args.seed)
    print(f"Figure 1: {result.n_train} training rows, test MSE {result.test_mse:.4f} (paper: 0.0127)")
    print(result.table().round(3).to_string())
    Path(args.out).mkdir(parents=True, exist_ok=True)
    save_figure(result.figure(), Path(args.out) / "figure1_simulation.png")
    print(f"Wrote {Path(args.out).resolve() / 'figure1_simulation.png'}")
    return 0


def _fico(args) -> int:
    from . import fico

    result = fico.run(
        args.data,
        applicants=args.applicants,
        extra=args.extra,
        seed=args.seed,
        time_limit=args.time_limit,
    )
    print(result.report())
    written = result.save(args.out)
    print(f"\nWrote {len(written)} files to {Path(args.out).resolve()}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbexplain.reproduce", description=__doc__)
    commands = parser.add_subparsers(dest="experiment", required=True)
    credit = commands.add_parser("credit", help="section 4: Figures 2-4 and Table 1")
    credit.add_argument("--data", help="the UCI credit-card file (.xls or .csv); default: the embedded data")
    credit.add_argument(
        "--repeats", type=number(int, low=1), default=30, help="trainings per model for Table 1 (default 30)"
    )
    credit.add_argument(
        "--epochs", type=number(int, low=1), default=100, help="maximum epochs per training (default 100)"
    )
    credit.add_argument(
        "--lime-instances",
        type=number(int, low=0),
        default=200,
        help="instances explained by LIME (default 200; 0 skips LIME)",
    )
    credit.add_argument(
        "--share",
        type=number(float, low=0, high=100, strict_low=True),
        default=90.0,
        help="cumulative importance to select (default 90)",
    )
    credit.add_argument("--seed", type=int, default=0)
    credit.add_argument("--out", default="nbexplain-reproduction", help="folder for figures and tables")
    credit.set_defaults(run=_credit)
    simulation = commands.add_parser("simulation", help="section 3: Figure 1")
    simulation.add_argument("--rows", type=number(int, low=100), default=10_000)
    simulation.add_argument("--seed", type=int, default=0)
    simulation.add_argument("--out", default="nbexplain-reproduction")
    simulation.set_defaults(run=_simulation)
    fico = commands.add_parser("fico", help="the FICO Explainable ML Challenge entry (Chen et al. 2018)")
    fico.add_argument("--data", help="FICO's heloc_dataset_v1.csv; default: the embedded HELOC-schema data")
    fico.add_argument("--applicants", type=int, default=3, help="test applicants explained (default 3)")
    fico.add_argument("--extra", type=int, default=1, help="best-supported rules up to minimum + EXTRA conditions")
    fico.add_argument("--time-limit", type=float, default=10.0, help="seconds per rule solve (default 10)")
    fico.add_argument("--seed", type=int, default=0)
    fico.add_argument("--out", default="nbexplain-reproduction", help="folder for the tables, rules and model")
    fico.set_defaults(run=_fico)
    args = parser.parse_args(argv)
    return run_command(f"python -m nbexplain.reproduce {args.experiment}", lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
