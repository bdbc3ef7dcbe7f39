"""Command line: ``python -m nbexplain demo`` explains the embedded demo model."""
from __future__ import annotations

import argparse
import sys


def demo(args) -> int:
    """Train the paper's simulation network (seeded, no network access) and print its global
    importance next to the true importance of the generating function."""
    from tqdm.auto import tqdm

    from .datasets import SIMULATION_FEATURES, simulation_importance
    from .datasets.models import train_simulation_network
    from .engine import SensitivityExplainer

    with tqdm(total=2, desc="demo", unit="step") as bar:
        bar.set_postfix_str("training the section-3 network")
        model, X_train, _, _, mse = train_simulation_network(n=args.rows, seed=args.seed)
        bar.update()
        bar.set_postfix_str("explaining")
        sensitivities = SensitivityExplainer(model).explain(X_train)
        bar.update()
    frame = sensitivities.global_importance().to_frame()
    frame["true importance"] = dict(zip(SIMULATION_FEATURES, simulation_importance()))
    print("Y = cos X1 + sin X2 + 2 X3 + X4 + X5/100 + noise  (Horel et al. 2018, section 3)")
    print(f"network 64-32 ReLU, {len(X_train)} training rows, test MSE {mse:.4f}\n")
    print("Global importance (sums to 100):")
    print(frame.sort_values("importance", ascending=False).round(3).to_string())
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nbexplain", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="explain the embedded demo model")
    demo_parser.add_argument("--rows", type=int, default=10_000)
    demo_parser.add_argument("--seed", type=int, default=0)
    demo_parser.set_defaults(run=demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
