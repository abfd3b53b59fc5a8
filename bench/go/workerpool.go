package main

import (
	"sync"
	"time"
)

const (
	poolWorkers  = 4
	poolSlices   = 1024
	poolSliceLen = 64
)

var poolInput [poolSlices * poolSliceLen]uint64

// poolWork is worker_pool.c's work(): about 100 ns of integer hashing.
func poolWork(slice []uint64, h uint64) uint64 {
	for _, x := range slice {
		h ^= x
		h *= 0x9E3779B97F4A7C15
		h ^= h >> 29
	}
	return h
}

func workerPool(n int64) time.Duration {
	var wg sync.WaitGroup
	var hash [poolWorkers]uint64
	var done [poolWorkers]int64
	jobs := make(chan int64, 128)
	start := time.Now()
	wg.Add(poolWorkers)
	for w := 0; w < poolWorkers; w++ {
		go func(w int) {
			var h uint64
			var count int64
			for j := range jobs {
				s := (j % poolSlices) * poolSliceLen
				h += poolWork(poolInput[s:s+poolSliceLen], uint64(j))
				count++
			}
			hash[w], done[w] = h, count
			wg.Done()
		}(w)
	}
	for j := int64(0); j < n; j++ {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	check(done[0]+done[1]+done[2]+done[3] == n, "every job done once")
	return elapsed
}

func workerPoolMain(o options) {
	for i := range poolInput {
		poolInput[i] = uint64(i) * 0x2545F4914F6CDD1D
	}
	report("WorkerPool", calibrate(o, workerPool), "ns/op")
}
