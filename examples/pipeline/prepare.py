"""Generate y = 3x - 2 + noise, split into train and test rows."""
import argparse, csv, os, random

p = argparse.ArgumentParser()
p.add_argument("--rows", type=int, required=True)
p.add_argument("--seed", type=int, required=True)
args = p.parse_args()

random.seed(args.seed)
os.makedirs("data", exist_ok=True)
for split, n in (("train", int(args.rows * 0.8)), ("test", args.rows - int(args.rows * 0.8))):
    with open(f"data/{split}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "y"])
        for _ in range(n):
            x = random.uniform(-1, 1)
            w.writerow([f"{x:.6f}", f"{3 * x - 2 + random.gauss(0, 0.1):.6f}"])
print(f"wrote {args.rows} rows to data/ (seed {args.seed})")
