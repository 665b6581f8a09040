"""Score the trained model on the test split."""
import csv, json, os

with open("checkpoint/model.json") as f:
    model = json.load(f)
with open("data/test.csv") as f:
    rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]
mse = sum((model["w"] * x + model["b"] - y) ** 2 for x, y in rows) / len(rows)
os.makedirs("metrics", exist_ok=True)
with open("metrics/metrics.json", "w") as f:
    json.dump({"mse": mse, "rows": len(rows), "epochs": model["epoch"]}, f)
print(f"test mse={mse:.4f} on {len(rows)} rows")
