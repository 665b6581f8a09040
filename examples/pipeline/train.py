"""Fit y = w*x + b by gradient descent. Resumes from checkpoint/model.json when present."""
import argparse, csv, json, os

p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, required=True)
p.add_argument("--learning_rate", type=float, required=True)
args = p.parse_args()

with open("data/train.csv") as f:
    rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]

state = {"epoch": 0, "w": 0.0, "b": 0.0}
if os.path.exists("checkpoint/model.json"):
    with open("checkpoint/model.json") as f:
        state = json.load(f)
    print(f"resuming from epoch {state['epoch']}")

os.makedirs("checkpoint", exist_ok=True)
for epoch in range(state["epoch"] + 1, args.epochs + 1):
    gw = sum(2 * (state["w"] * x + state["b"] - y) * x for x, y in rows) / len(rows)
    gb = sum(2 * (state["w"] * x + state["b"] - y) for x, y in rows) / len(rows)
    state["w"] -= args.learning_rate * gw
    state["b"] -= args.learning_rate * gb
    state["epoch"] = epoch
    loss = sum((state["w"] * x + state["b"] - y) ** 2 for x, y in rows) / len(rows)
    print(f"epoch {epoch}/{args.epochs} loss={loss:.4f}", flush=True)
    with open("checkpoint/model.json.tmp", "w") as f:
        json.dump(state, f)
    os.replace("checkpoint/model.json.tmp", "checkpoint/model.json")
print(f"model: y = {state['w']:.3f}x + {state['b']:.3f}")
