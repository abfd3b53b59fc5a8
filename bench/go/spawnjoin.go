package main

import (
	"sync"
	"time"
)

// spawnJoinBatch bounds the goroutines alive at once, as in spawn_join.c.
const spawnJoinBatch = 10000

func spawnJoin(n int64) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for i := int64(0); i < n; i += spawnJoinBatch {
		batch := n - i
		if batch > spawnJoinBatch {
			batch = spawnJoinBatch
		}
		for j := int64(0); j < batch; j++ {
			wg.Add(1)
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
	return time.Since(start)
}

func spawnJoinMain(o options) {
	report("SpawnJoin", calibrate(o, spawnJoin), "ns/op")
}
