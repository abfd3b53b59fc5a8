// Command gobench is the Go twin of the C benchmarks in bench/: one
// subcommand per workload, each printing the same "NAME VALUE UNIT" lines
// as its C program, so bench/run.py can pair them by NAME and UNIT.
//
// Calibration mirrors bench/bench.h (itself modelled on testing.B): run the
// body with n = 1, then grow n towards the target duration (at most 100x
// per step, 20% over the prediction) until one run lasts at least the
// target, and report that run; the first run, which pays for starting
// threads and first touches of memory, is never reported. Standard library
// only.
//
// Usage: gobench [--quick] [--time-ms N] WORKLOAD
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

type options struct {
	quick  bool
	target time.Duration
}

var workloads = map[string]func(options){
	"SpawnJoin":          spawnJoinMain,
	"PingPong":           pingPongMain,
	"BufferedThroughput": bufferedMain,
	"Select2":            select2Main,
	"WorkerPool":         workerPoolMain,
	"MutexContended":     mutexContendedMain,
	"MemoryHeavy":        memoryHeavyMain,
	"Parked":             parkedMain,
}

func usage() {
	names := make([]string, 0, len(workloads))
	for name := range workloads {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: gobench [--quick] [--time-ms N] WORKLOAD\nworkloads: %s\n",
		strings.Join(names, " "))
	os.Exit(2)
}

func main() {
	if len(os.Args) == 5 && os.Args[1] == "Parked" && os.Args[2] == "--size" {
		parkedChild(os.Args[3], os.Args[4])
		return
	}
	quick := flag.Bool("quick", false, "short runs and small sizes: a smoke run")
	timeMS := flag.Int("time-ms", 0, "target duration of one measured run")
	flag.Usage = usage
	flag.Parse()
	run, ok := workloads[flag.Arg(0)]
	if flag.NArg() != 1 || !ok || *timeMS < 0 {
		usage()
	}
	o := options{quick: *quick, target: 250 * time.Millisecond}
	if o.quick {
		o.target = 5 * time.Millisecond
	}
	if *timeMS > 0 {
		o.target = time.Duration(*timeMS) * time.Millisecond
	}
	run(o)
}

// calibrate returns nanoseconds per operation of the first run of body,
// after the warm-up run, that lasts at least the target. body runs n
// operations and returns how long its timed part took.
func calibrate(o options, body func(n int64) time.Duration) float64 {
	n := int64(1)
	for warm := false; ; warm = true {
		elapsed := body(n)
		if warm && (elapsed >= o.target || n >= 1e9) {
			return float64(elapsed.Nanoseconds()) / float64(n)
		}
		next := n * 100
		if elapsed > 0 {
			next = int64(float64(n) * 1.2 * float64(o.target) / float64(elapsed))
		}
		if next > n*100 {
			next = n * 100
		}
		if next <= n {
			next = n + 1
		}
		n = next
	}
}

func report(name string, value float64, unit string) {
	fmt.Printf("%s %s %s\n", name, strconv.FormatFloat(value, 'g', 6, 64), unit)
}

// check stops the run when a benchmark's result is wrong.
func check(ok bool, what string) {
	if !ok {
		fmt.Fprintf(os.Stderr, "benchmark check failed: %s\n", what)
		os.Exit(1)
	}
}

// rssBytes is the resident set size (second field of /proc/self/statm).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	check(err == nil, "read /proc/self/statm")
	fields := strings.Fields(string(data))
	check(len(fields) >= 2, "parse /proc/self/statm")
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	check(err == nil, "parse /proc/self/statm")
	return pages * int64(os.Getpagesize())
}

// pageTableBytes is VmPTE from /proc/self/status: memory the resident set
// does not count.
func pageTableBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	check(err == nil, "read /proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmPTE:") {
			fields := strings.Fields(strings.TrimPrefix(line, "VmPTE:"))
			check(len(fields) == 2 && fields[1] == "kB", "parse VmPTE")
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			check(err == nil, "parse VmPTE")
			return kb * 1024
		}
	}
	check(false, "find VmPTE in /proc/self/status")
	return 0
}
