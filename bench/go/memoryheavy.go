package main

import (
	"sync"
	"time"
)

const (
	memElems   = 4 << 20
	memPasses  = 4
	memWorkers = 2
)

func sweep(half []int64) int64 {
	var sum int64
	for pass := int64(1); pass <= memPasses; pass++ {
		for i := range half {
			v := half[i] + pass
			half[i] = v
			sum += v
		}
	}
	return sum
}

func memoryHeavy(a []int64) func(n int64) time.Duration {
	return func(n int64) time.Duration {
		start := time.Now()
		for run := int64(0); run < n; run++ {
			var wg sync.WaitGroup
			var sums [memWorkers]int64
			wg.Add(memWorkers)
			for w := 0; w < memWorkers; w++ {
				go func(w int) {
					sums[w] = sweep(a[w*memElems/memWorkers : (w+1)*memElems/memWorkers])
					wg.Done()
				}(w)
			}
			wg.Wait()
			check(sums[0] != 0 || sums[1] != 0, "sums computed")
		}
		return time.Since(start)
	}
}

func memoryHeavyMain(o options) {
	a := make([]int64, memElems)
	for i := range a { // fault every page in, untimed
		a[i] = int64(i)
	}
	ns := calibrate(o, memoryHeavy(a))
	report("MemoryHeavy", ns/float64(time.Millisecond), "ms/run")
}
