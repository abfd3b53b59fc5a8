#!/usr/bin/env python3
"""Build the C benchmarks and their Go twins, run them alternately, and
print medians with our/Go ratios beside the project's targets.

Every benchmark program prints "NAME VALUE UNIT" lines; a result is keyed
by (NAME, UNIT), so a C program and its Go twin are paired line by line.
Each round runs every workload once per side, C first and Go right after,
so slow drifts of the machine (thermal, noisy neighbours) hit both sides
alike; the table shows each side's median over the rounds (or, with
--stat min, its best round) and its spread ((max - min) / median).

Beside the program's own lines, every run adds one result of the runner's:
(NAME, "KiB-maxrss"), the program's peak resident set (the largest of the
program and the children it waited for) as GNU time reports it, NAME
being the Go subcommand.

A variant is one way to build both sides: "plain" is the CMake build of
bench/*.c against libgoroutine and `go build`; "race" is every bench/*.c
compiled by goroutine-cc -fgoroutine-race and `go build -race`. Each
variant gets its own table; the targets apply to the plain build. When
both ran, two more tables set each side's race build against its plain
build of the same run: the slowdowns, judged against half of Go's (the
race-detector issue's target), and the memory ratios, with the parked
goroutine's size in a race build judged against 6 KiB. A side that cannot
be built or run is shown as missing, never estimated.

--quick runs every benchmark once with tiny sizes: a smoke run that checks
they build and work; its numbers mean nothing and it judges none. The exit
status is 1 whenever a program failed to build or run, in any mode.
"""

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
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

# The largest acceptable our/Go ratio per result (the issue's targets).
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

# Go -race slowdowns (race / plain) quoted by the race-detector issue,
# measured there on this machine kind. Its target is that ours be at most
# half of Go's on every workload, and at most RACE_SLOWDOWN_CAP where one
# is given (MemoryHeavy: ThreadSanitizer on equivalent C code slows 6.4x).
ISSUE_GO_RACE_SLOWDOWN = {
    ("SpawnJoin", "ns/op"): 5.4,
    ("PingPong/1P", "ns/op"): 2.5,
    ("PingPong/2P", "ns/op"): 2.9,
    ("BufferedThroughput", "ns/op"): 5.9,
    ("Select2", "ns/op"): 2.2,
    ("WorkerPool", "ns/op"): 10.3,
    ("MutexContended", "ns/op"): 26.7,
    ("MemoryHeavy", "ms/run"): 24.6,
}
RACE_SLOWDOWN_CAP = {("MemoryHeavy", "ms/run"): 3.0}

# The issue's bound on the memory per parked goroutine in a race build
# (Parked/N B/g of the race variant; Go -race needs 13.4 KiB there).
RACE_PARKED_TARGET_B = 6 * 1024

# The runner's own result: a program's peak resident set, as GNU time
# reports it. GNU time forks the program from its own small process and
# takes the peak from wait4; wait4 on a program this script started itself
# would not do, as exec records the spawning process's peak (Python's, some
# 15 MB) as the new program's. None when GNU time is not installed.
RSS_UNIT = "KiB-maxrss"
GNU_TIME = shutil.which("time")

# Results that measure memory; every other one measures time.
MEMORY_UNITS = {"B/g", "pt-B/g", RSS_UNIT}

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

    def parked_size(self, quick):
        """Parked runs both its sizes, each in a process of its own."""
        return None

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

    def parked_size(self, quick):
        """(N, label) of the one size Parked measures. Go's race runtime
        keeps about 14 KB per goroutine: a million goroutines would need
        some 14 GB for the Go side alone."""
        return (1000, "1k") if quick else (100000, "100k")

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
    """Runs one benchmark program, under GNU time when installed, in a
    process group of its own: a timeout or an interrupt kills it with any
    children it started. Returns ({(name, unit): value}, its peak resident
    set in KiB or None, error)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as peak:
        timed = [GNU_TIME, "-f", "%M", "-o", peak.name] if GNU_TIME else []
        try:
            proc = subprocess.Popen(timed + argv, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, process_group=0)
        except OSError as e:
            return {}, None, str(e)
        timed_out = False
        try:
            proc.wait(RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            if proc.returncode is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        peak_kib = int(peak.read()) if GNU_TIME and proc.returncode == 0 else None
    if timed_out:
        return {}, None, f"timed out after {RUN_TIMEOUT_S}s"
    results = {}
    for line in stdout.splitlines():
        m = LINE.match(line.strip())
        if m:
            results[(m.group(1), m.group(3))] = float(m.group(2))
    if proc.returncode != 0:
        return results, None, f"exit status {proc.returncode}: {stderr.strip()[-2000:]}"
    if not results:
        return results, None, "printed no result"
    return results, peak_kib, None


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


def fmt_times(v):
    return "—" if v is None else fmt_value(v) + "x"


def fmt_limit(v):
    return "—" if v is None else "≤" + fmt_times(v)


def unit_label(unit):
    return unit + (" (more is better)" if unit in HIGHER_IS_BETTER else "")


def verdict(value, limit):
    """Whether value is within the largest acceptable one."""
    if value is None or limit is None:
        return "no data"
    return "met" if value <= limit else "MISSED"


def print_table(title, head, rows, numeric):
    """Prints a markdown table; the columns numbered in numeric align right."""
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(str(c).rjust(widths[i]) if i in numeric else str(c).ljust(widths[i]))
        return "| " + " | ".join(out) + " |"

    print(f"\n### {title}")
    print(line(head))
    print("|" + "|".join(("-" * (w + 1) + ":" if i in numeric else "-" * (w + 2))
                         for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))


def table(variant, keys, ours, go, with_targets, stat):
    head = ["benchmark", "unit", "ours", "±", "Go", "±", "ours/Go"]
    if with_targets:
        head += ["target", "status"]
    rows = []
    for key in keys:
        o_med, o_spread = summarize(ours.get(key, []), stat)
        g_med, g_spread = summarize(go.get(key, []), stat)
        ratio = o_med / g_med if o_med is not None and g_med else None
        row = [key[0], unit_label(key[1]), fmt_value(o_med),
               "—" if o_spread is None else f"{o_spread * 100:.0f}%",
               fmt_value(g_med),
               "—" if g_spread is None else f"{g_spread * 100:.0f}%",
               "—" if ratio is None else f"{ratio:.2f}"]
        if with_targets:
            target = TARGETS.get(key)
            row += ["", ""] if target is None else [f"≤{target:.1f}", verdict(ratio, target)]
        rows.append(row)
    print_table(f"{variant} ({stat} of the rounds)", head, rows, {2, 3, 4, 5, 6})


def race_slowdown(key, plain, race):
    """How many times slower the race build is: race / plain, or plain /
    race where more is better."""
    if not plain or not race:
        return None
    return plain / race if key[1] in HIGHER_IS_BETTER else race / plain


def race_slowdown_target(key, go_slowdown):
    """The issue's largest acceptable slowdown of ours, given Go's."""
    return min(go_slowdown / 2, RACE_SLOWDOWN_CAP.get(key, math.inf))


def slowdown_table(keys, value, stat):
    """Each side's race build against its plain build, for the time
    results; where the issue quotes Go's slowdown, ours is judged against
    half of Go's in this run and half of the issue's figure."""
    head = ["benchmark", "unit", "ours plain", "ours race", "ours race/plain",
            "Go race/plain", "target (this run)", "status", "target (issue)", "status"]
    rows = []
    for key in keys:
        ours = race_slowdown(key, value("plain/ours", key), value("race/ours", key))
        go = race_slowdown(key, value("plain/Go", key), value("race/Go", key))
        row = [key[0], unit_label(key[1]), fmt_value(value("plain/ours", key)),
               fmt_value(value("race/ours", key)), fmt_times(ours), fmt_times(go)]
        quoted = ISSUE_GO_RACE_SLOWDOWN.get(key)
        if quoted is None:
            row += ["", "", "", ""]
        else:
            this_run = None if go is None else race_slowdown_target(key, go)
            issue = race_slowdown_target(key, quoted)
            row += [fmt_limit(this_run), verdict(ours, this_run),
                    fmt_limit(issue), verdict(ours, issue)]
        rows.append(row)
    print_table(f"race slowdown (race / plain, same run; {stat} of the rounds)",
                head, rows, {2, 3, 4, 5, 6, 8})


def memory_table(keys, value, stat):
    """Each side's race build against its plain build, for the memory
    results; Parked's bytes per goroutine in our race build are judged
    against the issue's bound."""
    head = ["benchmark", "unit", "ours plain", "ours race", "ours race/plain",
            "Go plain", "Go race", "Go race/plain", "target", "status"]
    rows = []
    for key in keys:
        ours_race = value("race/ours", key)
        row = [key[0], key[1], fmt_value(value("plain/ours", key)), fmt_value(ours_race),
               fmt_times(race_slowdown(key, value("plain/ours", key), ours_race)),
               fmt_value(value("plain/Go", key)), fmt_value(value("race/Go", key)),
               fmt_times(race_slowdown(key, value("plain/Go", key), value("race/Go", key)))]
        if key[0].startswith("Parked/") and key[1] == "B/g":
            row += [f"race ≤{RACE_PARKED_TARGET_B}", verdict(ours_race, RACE_PARKED_TARGET_B)]
        else:
            row += ["", ""]
        rows.append(row)
    print_table(f"race memory (race / plain, same run; {stat} of the rounds)",
                head, rows, {2, 3, 4, 5, 6, 7})


def race_tables(samples, stat):
    """The slowdown and memory tables, over the results both the plain and
    the race variant have."""
    def keys_of(variant):
        return list(dict.fromkeys(list(samples.get(f"{variant}/ours", {}))
                                  + list(samples.get(f"{variant}/Go", {}))))

    def value(side, key):
        return summarize(samples.get(side, {}).get(key, []), stat)[0]

    race_keys = set(keys_of("race"))
    shared = [k for k in keys_of("plain") if k in race_keys]
    slowdown_table([k for k in shared if k[1] not in MEMORY_UNITS], value, stat)
    memory = [k for k in shared if k[1] in MEMORY_UNITS]
    if memory:
        memory_table(memory, value, stat)


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


def workload_argv(variant, side, path, stem, go_name, flags, quick):
    """The command line of one workload, and the name of its peak-RSS
    result. A variant that measures Parked at one size runs the programs'
    measuring mode (--size N LABEL, what they re-execute themselves into)
    directly, and names the result after that size."""
    program = os.path.join(path, "bench_" + stem) if side == "ours" else path
    size = variant.parked_size(quick) if stem == "parked" else None
    if size is None:
        argv = [program] + flags if side == "ours" else [program] + flags + [go_name]
        return argv, go_name
    sized = ["--size", str(size[0]), size[1]]
    argv = [program] + sized if side == "ours" else [program, go_name] + sized
    return argv, f"{go_name}/{size[1]}"


def run_rounds(sides, unbuilt, variants, workloads, rounds, flags, quick, failures):
    """Runs every workload round after round, ours then Go; returns the
    samples as {"variant/side": {(name, unit): [values]}}, keys in order of
    first appearance."""
    samples = {f"{v}/{side}": {} for v, side in sides}
    for r in range(rounds):
        for stem, go_name in workloads:
            if r >= MAX_ROUNDS.get(stem, rounds):
                continue
            for v in variants:
                for side in ("ours", "Go"):
                    path = sides.get((v.name, side))
                    if path is None or (side == "ours" and (v.name, stem) in unbuilt):
                        continue
                    argv, rss_name = workload_argv(v, side, path, stem, go_name, flags, quick)
                    if not os.path.exists(argv[0]):
                        if r == 0:
                            failures.append(f"{v.name}/{side} {stem}: {argv[0]} not built")
                        continue
                    log(f"[round {r + 1}/{rounds}] {v.name} {side}: {' '.join(argv)}")
                    results, peak_kib, err = run_program(argv)
                    if err:
                        log(f"  FAILED: {err}")
                        failures.append(f"{v.name}/{side} {stem} (round {r + 1}): "
                                        + err.splitlines()[0])
                    elif peak_kib is not None:
                        results[(rss_name, RSS_UNIT)] = peak_kib
                    for key, value in results.items():
                        samples[f"{v.name}/{side}"].setdefault(key, []).append(value)
    return samples


def report(run, stat):
    """Prints the header, one table per variant, the race tables when
    both variants ran, and the failures."""
    print(run["header"])
    for variant in run["variants"]:
        ours = run["samples"].get(f"{variant}/ours", {})
        go = run["samples"].get(f"{variant}/Go", {})
        keys = list(dict.fromkeys(list(ours) + list(go)))
        table(variant, keys, ours, go,
              with_targets=(variant == "plain" and not run["quick"]), stat=stat)
    if {"plain", "race"} <= set(run["variants"]) and not run["quick"]:
        race_tables(run["samples"], stat)
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
    samples = run_rounds(sides, unbuilt, variants, workloads, rounds, flags, args.quick,
                         failures)
    elapsed = time.monotonic() - started

    busy = " (other work was running: expect skewed numbers)" if load_before > 0.5 else ""
    header = (f"goroutine benchmarks: {rounds} round(s), {elapsed:.0f}s; "
              f"{describe_machine(build_dir)}\n"
              f"load average before the run: {load_before:.2f}{busy}")
    if args.quick:
        header += "\nquick mode: smoke run, the numbers are not measurements"
    if not GNU_TIME:
        header += f"\npeak RSS ({RSS_UNIT}) not measured: GNU time is not installed"
    run = {"header": header, "quick": args.quick, "variants": [v.name for v in variants],
           "samples": samples, "failures": failures}
    if args.json:
        save(run, args.json)
    report(run, args.stat)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
