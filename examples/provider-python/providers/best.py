"""The last job of the grid: reads every result (the artifacts of the jobs it depends on)."""
import glob
import json
import sys

results = [json.load(open(path)) for path in sorted(glob.glob(f"{sys.argv[1]}/lr-*.json"))]
best = min(results, key=lambda r: r["loss"])
json.dump(best, open(f"{sys.argv[1]}/best.json", "w"))
print(f"best of {len(results)}: lr={best['lr']} loss={best['loss']:.4f}")
