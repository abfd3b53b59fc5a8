package main

import (
	"sync"
	"time"
)

const mutexGoroutines = 4

func mutexContended(n int64) time.Duration {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var counter int64
	start := time.Now()
	wg.Add(mutexGoroutines)
	for i := int64(0); i < mutexGoroutines; i++ {
		increments := n / mutexGoroutines
		if i < n%mutexGoroutines {
			increments++
		}
		go func() {
			for k := int64(0); k < increments; k++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	check(counter == n, "no increment lost")
	return elapsed
}

func mutexContendedMain(o options) {
	report("MutexContended", calibrate(o, mutexContended), "ns/op")
}
