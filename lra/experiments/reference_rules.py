"""``python -m lra.experiments.reference_rules (FOLDER | --scale S)``: the ListOps reference rules
(:mod:`lra.experiments.listops_rules`) on a data folder or on a scale preset's generated data, as JSON."""
from lra.cli import run_main
from lra.experiments.listops_rules import main

if __name__ == "__main__":
    run_main(main)
