"""Command line: ``python -m gpu_experiments run|report|presets|channel``.

Ctrl-C stops a run cleanly: the state of the current cell is saved, the session is
marked interrupted, and the same command resumes it (exit status 130).

Examples::

    python -m gpu_experiments run --preset cpu-smoke --device auto --seeds 0 1 2 --out results/
    python -m gpu_experiments run --preset paper --device cuda --seeds 0 1 2 --out results/ --data-dir ~/cifar10
    torchrun --standalone --nproc_per_node=8 -m gpu_experiments run --preset paper --seeds 0 1 2 --data-dir ~/cifar10
    python -m gpu_experiments report results/cpu-smoke
    python -m gpu_experiments presets
    python -m gpu_experiments channel --arch resnet18 vit --out results/lion-channel
    python -m gpu_experiments study --preset lion-study --seeds 0 1 2 3 4 --tune-seeds 100 101
    python -m gpu_experiments study-report results/lion-study
"""

from __future__ import annotations

import argparse
import sys

from .data import DataError

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gpu_experiments", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run (or resume) a preset's grid and write its report")
    r.add_argument("--preset", required=True, help="cpu-smoke | cpu-small | paper, or a path to a preset TOML file")
    r.add_argument("--device", default="auto",
                   help="auto (CUDA if available; under torchrun the local rank's GPU), cpu, cuda, cuda:K")
    r.add_argument("--parallel", choices=["data", "cells"], default="data",
                   help="under torchrun: 'data' trains each cell with DDP on all ranks (default), "
                        "'cells' gives each rank whole cells (one lock per cell)")
    r.add_argument("--seeds", type=int, nargs="+", default=[0], help="run seeds (default: 0)")
    r.add_argument("--out", default="results", help="parent directory of the results (default: results)")
    r.add_argument("--data-dir", default=None, help="directory with the CIFAR-10 python-format batches")
    r.add_argument("--name", default=None, help="results sub-directory (default: the preset name)")
    r.add_argument("--epochs", type=int, default=None, help="override the preset's epochs (use with --name)")
    r.add_argument("--archs", nargs="+", default=None, help="run only these architectures of the grid")
    r.add_argument("--optimizers", nargs="+", default=None, help="run only these optimizers of the grid")
    r.add_argument("--quiet", action="store_true", help="no progress display")
    r.add_argument("--no-report", action="store_true", help="do not write the report at the end")
    r.add_argument("--stop-after-steps", type=int, default=None, help=argparse.SUPPRESS)  # tests: simulated kill
    rep = sub.add_parser("report", help="(re)write the report of a results directory")
    rep.add_argument("results_dir")
    rep.add_argument("--no-figures", action="store_true", help="skip the matplotlib figures")
    sub.add_parser("presets", help="list the presets")
    ch = sub.add_parser("channel", help="I(sign; direction) vs I(tanh; direction) on a Lion run's gradients")
    ch.add_argument("--arch", nargs="+", default=["resnet18"], help="architectures (resnet18, vit, mlp, cnn)")
    ch.add_argument("--out", default="results/lion-channel", help="directory for channel.json and channel.md")
    ch.add_argument("--epochs", type=int, default=8, help="Lion epochs on digits (default 8 = 176 steps)")
    ch.add_argument("--seed", type=int, default=0)
    ch.add_argument("--mini-batches", type=int, default=256, help="K, mini-batch gradients per checkpoint")
    ch.add_argument("--max-coordinates", type=int, default=20_000, help="fixed random subset of coordinates")
    ch.add_argument("--quiet", action="store_true", help="no progress on stderr")
    st = sub.add_parser("study", help="run (or resume) a study preset: tune, main, ablation")
    st.add_argument("--preset", default="lion-study", help="a preset with a [study] table (default lion-study)")
    st.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="evaluation seeds")
    st.add_argument("--tune-seeds", type=int, nargs="+", default=[100, 101], help="learning-rate tuning seeds")
    st.add_argument("--phases", nargs="+", default=["tune", "main", "ablation"], help="tune main ablation")
    st.add_argument("--archs", nargs="+", default=None, help="run only these architectures (one per process)")
    st.add_argument("--device", default="auto")
    st.add_argument("--out", default="results")
    st.add_argument("--data-dir", default=None)
    st.add_argument("--name", default=None)
    st.add_argument("--quiet", action="store_true")
    st.add_argument("--no-report", action="store_true", help="do not write the study report at the end")
    sr = sub.add_parser("study-report", help="(re)write study.md/study.json of a study directory")
    sr.add_argument("study_dir")
    sr.add_argument("--preset", default=None, help="the study preset (default: the one recorded in study.json)")
    sr.add_argument("--no-figures", action="store_true")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from .training import RunInterrupted

    try:
        return _dispatch(args)
    except (KeyboardInterrupt, RunInterrupted):
        print("\ninterrupted: state saved; rerun to resume (the same command continues where it stopped)",
              file=sys.stderr)
        return INTERRUPTED_EXIT
    except (ValueError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    from .distributed import init_from_env, resolve_device, shutdown
    from .runner import run_grid

    dev = resolve_device(args.device)
    dist = init_from_env(dev, args.parallel)
    try:
        out_dir = run_grid(
            args.preset, out=args.out, seeds=args.seeds, device=dev, data_dir=args.data_dir,
            name=args.name, epochs=args.epochs, archs=args.archs, optimizers=args.optimizers, quiet=args.quiet,
            stop_after_steps=args.stop_after_steps, write_outputs=not args.no_report, dist=dist,
        )
    finally:
        shutdown(dist)
    if dist.rank == 0:
        print(f"results in {out_dir}" + ("" if args.no_report else f"; report: {out_dir}/report.md"))
    return 0


def _dispatch(args) -> int:
    if args.command == "presets":
        from .presets import available_presets, load_preset

        for name in available_presets():
            print(f"{name}: {load_preset(name).get('description', '')}")
        return 0
    if args.command == "report":
        from .report import write_report

        write_report(args.results_dir, figures=not args.no_figures)
        print(f"report written to {args.results_dir}/report.md")
        return 0
    if args.command in ("study", "study-report"):
        from .study import run_study, write_study_report

        if args.command == "study":
            study_dir = run_study(args.preset, out=args.out, seeds=args.seeds, tune_seeds=args.tune_seeds,
                                  device=args.device, data_dir=args.data_dir, name=args.name, archs=args.archs,
                                  phases=args.phases, quiet=args.quiet)
            if args.no_report:
                print(f"study results in {study_dir}")
                return 0
        else:
            study_dir = args.study_dir
        write_study_report(study_dir, getattr(args, "preset", None) if args.command == "study-report" else None,
                           figures=not getattr(args, "no_figures", False))
        print(f"study report written to {study_dir}/study.md")
        return 0
    if args.command == "channel":
        from .gradient_channel import run_channel

        out_dir = run_channel(args.arch, args.out, epochs=args.epochs, seed=args.seed,
                              mini_batches=args.mini_batches, max_coordinates=args.max_coordinates,
                              quiet=args.quiet)
        print(f"channel report: {out_dir}/channel.md, {out_dir}/channel.json")
        return 0
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
