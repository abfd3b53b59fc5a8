package main

import (
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// parked is parked.c's measurement: n goroutines each blocked receiving on
// its own unbuffered channel; RSS growth, create and release time per
// goroutine. Each size runs in a fresh process, as in parked.c.
func parked(label string, n int) {
	var started, exited sync.WaitGroup
	chans := make([]chan int64, n)
	started.Add(n)
	exited.Add(n)
	rssBefore := rssBytes()
	ptBefore := pageTableBytes()

	start := time.Now()
	for i := range chans {
		c := make(chan int64)
		chans[i] = c
		go func() {
			started.Done()
			<-c
			exited.Done()
		}()
	}
	started.Wait()
	created := time.Since(start)

	time.Sleep(20 * time.Millisecond)
	rssAfter := rssBytes()
	ptAfter := pageTableBytes()

	start = time.Now()
	for i, c := range chans {
		c <- int64(i)
	}
	exited.Wait()
	released := time.Since(start)

	name := "Parked/" + label
	report(name, float64(rssAfter-rssBefore)/float64(n), "B/g")
	report(name, float64(ptAfter-ptBefore)/float64(n), "pt-B/g")
	report(name, float64(created.Nanoseconds())/float64(n), "create-ns/g")
	report(name, float64(released.Nanoseconds())/float64(n), "release-ns/g")
}

func parkedChild(size, label string) {
	n, err := strconv.Atoi(size)
	check(err == nil && n > 0, "parse --size")
	parked(label, n)
}

func parkedInChild(label string, n int) {
	cmd := exec.Command("/proc/self/exe", "Parked", "--size", strconv.Itoa(n), label)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	check(cmd.Run() == nil, "measuring process succeeded")
}

func parkedMain(o options) {
	if o.quick {
		parkedInChild("1k", 1000)
		parkedInChild("10k", 10000)
	} else {
		parkedInChild("100k", 100000)
		parkedInChild("1M", 1000000)
	}
}
