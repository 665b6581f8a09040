#!/bin/bash
# GPU detection and assignment, checked end to end on a machine with NVIDIA GPUs (the test
# suite has none: its nvidia-smi is a script). Runs the built CLI (npm run build) on its
# embedded server, in a temp project and DSTACK_HOME, and fails naming the first check that
# does not hold. PyTorch, where python3 has it, also checks what CUDA sees inside the jobs.
#   bash scripts/gpu-smoke.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dstack="$repo/bin/dstack"
[ -f "$repo/dist/cli/main.js" ] || { echo "gpu-smoke: build first: npm run build" >&2; exit 2; }
command -v nvidia-smi >/dev/null || { echo "gpu-smoke: no nvidia-smi: this needs a machine with NVIDIA GPUs" >&2; exit 2; }
gpus=$(nvidia-smi -L | grep -c '^GPU ' || true)
[ "$gpus" -gt 0 ] || { echo "gpu-smoke: nvidia-smi lists no GPU" >&2; exit 2; }
torch=no
python3 -c 'import torch' 2>/dev/null && torch=yes

work=$(mktemp -d)
export DSTACK_HOME="$work/home"
unset DSTACK_SERVER DSTACK_TOKEN DSTACK_PROFILE CUDA_VISIBLE_DEVICES
trap '"$dstack" server stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
fail() { echo "gpu-smoke: FAIL: $*" >&2; exit 1; }
ok() { echo "gpu-smoke: ok: $*"; }

# What a job sees: its CUDA variables, and (with PyTorch) how many GPUs CUDA gives it.
sees='echo "sees CUDA_VISIBLE_DEVICES=[${CUDA_VISIBLE_DEVICES-unset}] CUDA_DEVICE_ORDER=[${CUDA_DEVICE_ORDER-unset}]"'
cuda='python3 -c "import torch; print(\"cuda\", torch.cuda.device_count())"'
[ "$torch" = yes ] || cuda='echo cuda unchecked'
mkdir -p "$work/project/.dstack"
cd "$work/project"
cat > .dstack/workflows.yaml <<YAML
workflows:
  - name: one
    commands: ['$sees', '$cuda']
    resources: {gpu: 1}
  - name: none
    commands: ['$sees', '$cuda']
  - name: a
    commands: ['$sees', 'echo start \$(date +%s%N)', 'sleep 2', 'echo end \$(date +%s%N)']
    resources: {gpu: 1}
  - name: b
    commands: ['$sees', 'echo start \$(date +%s%N)', 'sleep 2', 'echo end \$(date +%s%N)']
    resources: {gpu: 1}
  - name: both
    depends-on: [a, b]
    commands: ['true']
  - name: too-many
    commands: ['true']
    resources: {gpu: $((gpus + 1))}
YAML

runners=$("$dstack" runners)
echo "$runners"
grep -Eq "^local .* $gpus/$gpus " <<<"$runners" || fail "the local runner does not offer the $gpus GPUs nvidia-smi lists"
ok "the local runner offers $gpus GPU(s)"

out=$("$dstack" run one --no-cache)
echo "$out"
grep -Eq 'sees CUDA_VISIBLE_DEVICES=\[[0-9]+\] CUDA_DEVICE_ORDER=\[PCI_BUS_ID\]' <<<"$out" ||
  fail "a gpu: 1 job did not get one GPU index in PCI bus order"
[ "$torch" = no ] || grep -q '^cuda 1$' <<<"$out" || fail "CUDA did not show a gpu: 1 job exactly one GPU"
ok "a gpu: 1 job gets one GPU"

out=$("$dstack" run none --no-cache)
echo "$out"
grep -q 'sees CUDA_VISIBLE_DEVICES=\[\]' <<<"$out" || fail "a job without GPUs was not given an empty CUDA_VISIBLE_DEVICES"
[ "$torch" = no ] || grep -q '^cuda 0$' <<<"$out" || fail "CUDA showed GPUs to a job without any"
ok "a job without GPUs sees none"

out=$("$dstack" run both --no-cache)
echo "$out"
a=$(grep -Eo '^a +\| sees CUDA_VISIBLE_DEVICES=\[[0-9]+\]' <<<"$out" | grep -Eo '[0-9]+\]$')
b=$(grep -Eo '^b +\| sees CUDA_VISIBLE_DEVICES=\[[0-9]+\]' <<<"$out" | grep -Eo '[0-9]+\]$')
if [ "$a" = "$b" ]; then
  # One GPU for both: they must have taken turns.
  a_end=$(grep -Eo '^a +\| end [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
  b_end=$(grep -Eo '^b +\| end [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
  a_start=$(grep -Eo '^a +\| start [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
  b_start=$(grep -Eo '^b +\| start [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
  [ "$a_end" -le "$b_start" ] || [ "$b_end" -le "$a_start" ] || fail "two jobs ran on GPU ${a%]} at the same time"
  ok "two gpu: 1 jobs took turns on GPU ${a%]}"
else
  ok "two gpu: 1 jobs got GPUs ${a%]} and ${b%]}"
fi

out=$("$dstack" run too-many --no-cache 2>&1) && fail "a job asking for $((gpus + 1)) GPUs ran"
echo "$out"
grep -q "this machine does not have $((gpus + 1)) GPUs" <<<"$out" || fail "a job asking for too many GPUs was not refused by name"
ok "a job asking for $((gpus + 1)) GPUs is refused"
echo "gpu-smoke: all checks passed (PyTorch: $torch)"
