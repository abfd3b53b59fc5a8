package main

import "time"

func buffered(n int64) time.Duration {
	c := make(chan int64, 128)
	start := time.Now()
	go func() {
		for i := int64(0); i < n; i++ {
			c <- i
		}
		close(c)
	}()
	var count, sum int64
	for v := range c {
		count++
		sum += v
	}
	elapsed := time.Since(start)
	check(count == n && sum == n*(n-1)/2, "every item received once")
	return elapsed
}

func bufferedMain(o options) {
	report("BufferedThroughput", calibrate(o, buffered), "ns/op")
}
