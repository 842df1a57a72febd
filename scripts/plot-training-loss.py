#!/usr/bin/env python3
"""Plot the masked reconstruction loss of a `moemae pretrain` run from its train.jsonl.

usage: scripts/plot-training-loss.py RUN/train.jsonl OUT.png [--title TEXT]

Draws every step's L_masked (thin) and its mean per epoch (thick), and the learning rate on a
second axis. Needs matplotlib (`pip install matplotlib`); not used by the tests or CI.
"""
import argparse
import collections
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("out")
    ap.add_argument("--title", default="moemae pretrain: masked reconstruction loss")
    a = ap.parse_args()
    rows = [json.loads(line) for line in open(a.log) if line.strip()]
    steps = [r["step"] for r in rows]
    masked = [r["loss_masked"] for r in rows]
    by_epoch = collections.defaultdict(list)
    for r in rows:
        by_epoch[r["epoch"]].append((r["step"], r["loss_masked"]))
    ep_steps = [max(s for s, _ in v) for _, v in sorted(by_epoch.items())]
    ep_mean = [sum(l for _, l in v) / len(v) for _, v in sorted(by_epoch.items())]

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.plot(steps, masked, lw=0.6, color="#9ecae1", label="L_masked per step")
    ax.plot(ep_steps, ep_mean, lw=2.0, color="#08519c", label="mean per epoch")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("L_masked (SSE per masked patch, z-scored pixels)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(steps, [r["lr"] for r in rows], lw=1.0, color="#d94801", alpha=0.7, label="learning rate")
    ax2.set_ylabel("learning rate")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper right")
    ax.set_title(a.title)
    fig.tight_layout()
    fig.savefig(a.out)


if __name__ == "__main__":
    main()
