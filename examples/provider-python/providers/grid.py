"""A custom provider: one training job per learning rate, then a job that picks the best.

dstack gives it the workflow in the JSON file named by DSTACK_PROVIDER_INPUT and reads its jobs
from the file named by DSTACK_PROVIDER_OUTPUT (docs/providers.md)."""
import json
import os
import sys

with open(os.environ["DSTACK_PROVIDER_INPUT"]) as f:
    request = json.load(f)
params = request["workflow"]["params"]
script = params.get("script")
rates = params.get("learning_rates")
if not script or not isinstance(rates, list) or not rates:
    sys.exit("grid needs 'script' and a list 'learning_rates'")

jobs = [
    {
        "name": f"lr-{i}",
        "commands": [f"python3 {script} --lr {rate} --out results/lr-{i}.json"],
        "artifacts": [f"results/lr-{i}.json"],
    }
    for i, rate in enumerate(rates)
]
jobs.append(
    {
        "name": "best",
        "commands": ["python3 providers/best.py results"],
        "artifacts": ["results/best.json"],
        "depends_on": [job["name"] for job in jobs],
    }
)
with open(os.environ["DSTACK_PROVIDER_OUTPUT"], "w") as f:
    json.dump({"jobs": jobs}, f, indent=2)
print(f"grid: {len(jobs)} jobs for {len(rates)} learning rates")
