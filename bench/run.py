#!/usr/bin/env python3
"""Build the C benchmarks and their Go twins, run them alternately, and
print medians with our/Go ratios beside the project's targets.

Every benchmark program prints "NAME VALUE UNIT" lines; a result is keyed
by (NAME, UNIT), so a C program and its Go twin are paired line by line.
Each round runs every workload once per side, C first and Go right after,
so slow drifts of the machine (thermal, noisy neighbours) hit both sides
alike; the table shows each side's median over the rounds (or, with
--stat min, its best round) and its spread ((max - min) / median).

A variant is one way to build both sides: "plain" is the CMake build of
bench/*.c against libgoroutine and `go build`; "race" is every bench/*.c
compiled by goroutine-cc -fgoroutine-race and `go build -race`. Each
variant gets its own table; the targets apply to the plain build. A side
that cannot be built or run is shown as missing, never estimated.

--quick runs every benchmark once with tiny sizes: a smoke run that checks
they build and work; its numbers mean nothing and it judges none. The exit
status is 1 whenever a program failed to build or run, in any mode.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)

# (C program stem in bench/, Go subcommand). Order is the table's order.
WORKLOADS = [
    ("spawn_join", "SpawnJoin"),
    ("ping_pong", "PingPong"),
    ("buffered", "BufferedThroughput"),
    ("select2", "Select2"),
    ("worker_pool", "WorkerPool"),
    ("mutex_contended", "MutexContended"),
    ("memory_heavy", "MemoryHeavy"),
    ("parked", "Parked"),
    ("echo", "Echo"),
]

# Units where more is better; every other ratio ours/Go is better low.
HIGHER_IS_BETTER = {"msg/s"}

# Parked's target is a memory figure that varies by about 1% between
# rounds, while one round of it (a million goroutines per side) costs tens
# of seconds, so it runs at most this many rounds.
MAX_ROUNDS = {"parked": 3}

# The largest acceptable our/Go ratio per result (the targets).
TARGETS = {
    ("SpawnJoin", "ns/op"): 0.5,
    ("PingPong/1P", "ns/op"): 0.5,
    ("PingPong/2P", "ns/op"): 0.7,
    ("BufferedThroughput", "ns/op"): 0.7,
    ("Select2", "ns/op"): 0.7,
    ("WorkerPool", "ns/op"): 0.7,
    ("MutexContended", "ns/op"): 1.0,
    ("MemoryHeavy", "ms/run"): 1.0,
    ("Parked/1M", "B/g"): 1.5,
}

RUN_TIMEOUT_S = 600


class BuildError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_checked(cmd, env=None, cwd=None):
    log("+ " + " ".join(cmd))
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stdout.splitlines()
                      if re.search(r"error|undefined reference", ln)), "")
        raise BuildError(f"{' '.join(cmd)} failed: {first.strip()}\n{proc.stdout[-4000:]}")


def go_env(build_dir):
    env = dict(os.environ)
    env.update(GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="",
               GOCACHE=os.path.join(build_dir, "go-cache"))
    return env


def build_go(build_dir, output, extra_flags):
    run_checked(["go", "build", *extra_flags, "-o", os.path.join(build_dir, "bin", output), "."],
                env=go_env(build_dir), cwd=os.path.join(BENCH_DIR, "go"))


def configure_cmake(build_dir):
    run_checked(["cmake", "-S", REPO, "-B", build_dir,
                 "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DGOROUTINE_SANITIZE=OFF"])


class Plain:
    """libgoroutine through the CMake build, and `go build`."""
    name = "plain"
    go_program = "gobench"
    skip = frozenset()

    def ours_dir(self, build_dir):
        return os.path.join(build_dir, "bin")

    def build_ours(self, build_dir):
        """Builds each program on its own, so one that fails to build costs
        only its own rows; returns {stem: error} of those that failed."""
        configure_cmake(build_dir)
        errors = {}
        for stem, _ in WORKLOADS:
            try:
                run_checked(["cmake", "--build", build_dir, "--target", "bench_" + stem,
                             "-j", str(os.cpu_count() or 2)])
            except BuildError as e:
                errors[stem] = str(e)
        return errors

    def build_go(self, build_dir):
        build_go(build_dir, self.go_program, [])
        return {}


class Race:
    """The race build: bench/*.c through goroutine-cc -fgoroutine-race
    (which links libgoroutine-race), and `go build -race`."""
    name = "race"
    go_program = "gobench-race"
    # Go's race runtime keeps about 14 KB per goroutine: Parked's million
    # goroutines would need some 14 GB for the Go side alone.
    skip = frozenset({"parked"})

    def ours_dir(self, build_dir):
        return os.path.join(build_dir, "bench-race")

    def build_ours(self, build_dir):
        configure_cmake(build_dir)
        # Only what goroutine-cc -fgoroutine-race uses, not the test suites.
        targets = ["goroutine-cc", "goroutine_race", "goroutine_static"]
        if os.path.exists(os.path.join(build_dir, "instrument", "pass")):
            targets.append("GoRacePass")
        run_checked(["cmake", "--build", build_dir, "-j", str(os.cpu_count() or 2),
                     "--target", *targets])
        driver = os.path.join(build_dir, "bin", "goroutine-cc")
        if not os.access(driver, os.X_OK):
            raise BuildError(f"{driver} was not built")
        os.makedirs(self.ours_dir(build_dir), exist_ok=True)
        errors = {}
        for stem, _ in WORKLOADS:
            try:
                run_checked([driver, "-fgoroutine-race", "-O2", "-D_GNU_SOURCE",
                             "-I", os.path.join(REPO, "include"),
                             os.path.join(BENCH_DIR, stem + ".c"),
                             "-o", os.path.join(self.ours_dir(build_dir), "bench_" + stem)])
            except BuildError as e:
                errors[stem] = str(e)
        return errors

    def build_go(self, build_dir):
        build_go(build_dir, self.go_program, ["-race"])
        return {}


VARIANTS = {v.name: v for v in (Plain(), Race())}

LINE = re.compile(r"^(\S+) ([-+0-9.eE]+|nan|inf) (\S+)$")


def run_program(argv):
    """Runs one benchmark program; returns ({(name, unit): value}, error)."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {}, f"timed out after {RUN_TIMEOUT_S}s"
    except OSError as e:
        return {}, str(e)
    results = {}
    for line in proc.stdout.splitlines():
        m = LINE.match(line.strip())
        if m:
            results[(m.group(1), m.group(3))] = float(m.group(2))
    if proc.returncode != 0:
        return results, f"exit status {proc.returncode}: {proc.stderr.strip()[-2000:]}"
    if not results:
        return results, "printed no result"
    return results, None


def fmt_value(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def summarize(samples, stat):
    """(median or min, spread) of a list of samples, or (None, None)."""
    if not samples:
        return None, None
    value = statistics.median(samples) if stat == "median" else min(samples)
    spread = (max(samples) - min(samples)) / value if value else 0.0
    return value, spread


def table(variant, keys, ours, go, with_targets, stat):
    head = ["benchmark", "unit", "ours", "±", "Go", "±", "ours/Go"]
    if with_targets:
        head += ["target", "status"]
    rows = []
    for key in keys:
        o_med, o_spread = summarize(ours.get(key, []), stat)
        g_med, g_spread = summarize(go.get(key, []), stat)
        ratio = o_med / g_med if o_med is not None and g_med else None
        unit = key[1] + (" (more is better)" if key[1] in HIGHER_IS_BETTER else "")
        row = [key[0], unit, fmt_value(o_med),
               "—" if o_spread is None else f"{o_spread * 100:.0f}%",
               fmt_value(g_med),
               "—" if g_spread is None else f"{g_spread * 100:.0f}%",
               "—" if ratio is None else f"{ratio:.2f}"]
        if with_targets:
            target = TARGETS.get(key)
            if target is None:
                row += ["", ""]
            elif ratio is None:
                row += [f"≤{target:.1f}", "no data"]
            else:
                row += [f"≤{target:.1f}", "met" if ratio <= target else "MISSED"]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    numeric = {2, 3, 4, 5, 6}

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(str(c).rjust(widths[i]) if i in numeric else str(c).ljust(widths[i]))
        return "| " + " | ".join(out) + " |"

    print(f"\n### {variant} ({stat} of the rounds)")
    print(line(head))
    print("|" + "|".join(("-" * (w + 1) + ":" if i in numeric else "-" * (w + 2))
                         for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))


def describe_machine(build_dir):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    go_version = subprocess.run(["go", "version"], stdout=subprocess.PIPE,
                                text=True, env=go_env(build_dir)).stdout.strip()
    return (f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}; "
            f"{go_version}; GOMAXPROCS={os.environ.get('GOMAXPROCS', 'unset')}")


def load_average():
    """The 1-minute load average: other work on the machine skews results."""
    return os.getloadavg()[0]


def build_sides(variants, build_dir, no_build, failures):
    """Builds every side; whatever fails to build is reported and skipped
    (a stale program from an earlier build is never run). Returns
    {(variant, "ours"): directory of bench_*, (variant, "Go"): gobench} and
    the set of (variant, stem) whose C program failed to build."""
    sides, unbuilt = {}, set()
    for v in variants:
        for side, build, path in (
                ("ours", v.build_ours, v.ours_dir(build_dir)),
                ("Go", v.build_go, os.path.join(build_dir, "bin", v.go_program))):
            try:
                errors = {} if no_build else build(build_dir)
                if not os.path.exists(path):
                    raise BuildError(f"{path} does not exist")
                sides[(v.name, side)] = path
            except BuildError as e:
                errors = {"all": str(e)}
            for stem, e in errors.items():
                unbuilt.add((v.name, stem))
                log(f"variant {v.name}, {side}: cannot build {stem}: {e}")
                failures.append(f"{v.name}/{side} {stem}: build failed: {e.splitlines()[0]}")
    return sides, unbuilt


def run_rounds(sides, unbuilt, variants, workloads, rounds, flags, failures):
    """Runs every workload round after round, ours then Go; returns the
    samples as {"variant/side": {(name, unit): [values]}}, keys in order of
    first appearance."""
    samples = {f"{v}/{side}": {} for v, side in sides}
    for r in range(rounds):
        for stem, go_name in workloads:
            if r >= MAX_ROUNDS.get(stem, rounds):
                continue
            for v in variants:
                if stem in v.skip:
                    continue
                for side in ("ours", "Go"):
                    path = sides.get((v.name, side))
                    if path is None or (side == "ours" and (v.name, stem) in unbuilt):
                        continue
                    argv = ([os.path.join(path, "bench_" + stem)] + flags if side == "ours"
                            else [path] + flags + [go_name])
                    if not os.path.exists(argv[0]):
                        if r == 0:
                            failures.append(f"{v.name}/{side} {stem}: {argv[0]} not built")
                        continue
                    log(f"[round {r + 1}/{rounds}] {v.name} {side}: {' '.join(argv)}")
                    results, err = run_program(argv)
                    if err:
                        log(f"  FAILED: {err}")
                        failures.append(f"{v.name}/{side} {stem} (round {r + 1}): "
                                        + err.splitlines()[0])
                    for key, value in results.items():
                        samples[f"{v.name}/{side}"].setdefault(key, []).append(value)
    return samples


def report(run, stat):
    """Prints the header, one table per variant and the failures."""
    print(run["header"])
    for variant in run["variants"]:
        ours = run["samples"].get(f"{variant}/ours", {})
        go = run["samples"].get(f"{variant}/Go", {})
        keys = list(dict.fromkeys(list(ours) + list(go)))
        table(variant, keys, ours, go,
              with_targets=(variant == "plain" and not run["quick"]), stat=stat)
    if run["failures"]:
        print("\nfailures:")
        for f in run["failures"]:
            print("  " + f)


def save(run, path):
    out = dict(run)
    out["samples"] = {side: {f"{k[0]} {k[1]}": vals for k, vals in res.items()}
                      for side, res in run["samples"].items()}
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


def load(path):
    with open(path) as f:
        run = json.load(f)
    run["samples"] = {side: {tuple(k.split(" ", 1)): vals for k, vals in res.items()}
                      for side, res in run["samples"].items()}
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("BENCH_BUILD_DIR",
                                                          os.path.join(REPO, "build-bench")))
    ap.add_argument("--rounds", type=int, help="rounds per side (default 5, 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, one round")
    ap.add_argument("--time-ms", type=int, help="target duration of one measured run")
    ap.add_argument("--only", help="comma-separated workloads (C stems or Go names)")
    ap.add_argument("--variants", default="plain",
                    help=f"comma-separated, from: {', '.join(VARIANTS)} (default plain)")
    ap.add_argument("--no-build", action="store_true", help="use the programs already built")
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="summary of the rounds (min resists noisy neighbours)")
    ap.add_argument("--json", help="also save the run (every sample) to this file")
    ap.add_argument("--from-json", help="print the tables of a saved run; build and run nothing")
    args = ap.parse_args()

    if args.from_json:
        run = load(args.from_json)
        report(run, args.stat)
        return 1 if run["failures"] else 0

    rounds = args.rounds or (1 if args.quick else 5)
    workloads = WORKLOADS
    if args.only:
        wanted = set(args.only.split(","))
        workloads = [w for w in WORKLOADS if w[0] in wanted or w[1] in wanted]
        unknown = wanted - {n for w in WORKLOADS for n in w}
        if unknown:
            ap.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    variants = []
    for name in args.variants.split(","):
        if name not in VARIANTS:
            ap.error(f"unknown variant {name}")
        variants.append(VARIANTS[name])
    if shutil.which("go") is None:
        ap.error("go is not installed")

    build_dir = os.path.abspath(args.build_dir)
    flags = []
    if args.quick:
        flags.append("--quick")
    if args.time_ms:
        flags += ["--time-ms", str(args.time_ms)]

    failures = []
    sides, unbuilt = build_sides(variants, build_dir, args.no_build, failures)
    load_before = load_average()
    started = time.monotonic()
    samples = run_rounds(sides, unbuilt, variants, workloads, rounds, flags, failures)
    elapsed = time.monotonic() - started

    busy = " (other work was running: expect skewed numbers)" if load_before > 0.5 else ""
    header = (f"goroutine benchmarks: {rounds} round(s), {elapsed:.0f}s; "
              f"{describe_machine(build_dir)}\n"
              f"load average before the run: {load_before:.2f}{busy}")
    if args.quick:
        header += "\nquick mode: smoke run, the numbers are not measurements"
    run = {"header": header, "quick": args.quick, "variants": [v.name for v in variants],
           "samples": samples, "failures": failures}
    if args.json:
        save(run, args.json)
    report(run, args.stat)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
