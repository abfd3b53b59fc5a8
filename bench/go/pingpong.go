package main

import (
	"runtime"
	"time"
)

func pingPong(n int64) time.Duration {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	start := time.Now()
	for i := int64(0); i < n; i++ {
		ping <- i
		v := <-pong
		check(v == i, "echoed value")
	}
	elapsed := time.Since(start)
	close(ping)
	_, ok := <-pong
	check(!ok, "echo closes pong")
	return elapsed
}

func pingPongMain(o options) {
	before := runtime.GOMAXPROCS(1)
	report("PingPong/1P", calibrate(o, pingPong), "ns/op")
	runtime.GOMAXPROCS(2)
	report("PingPong/2P", calibrate(o, pingPong), "ns/op")
	runtime.GOMAXPROCS(before)
}
