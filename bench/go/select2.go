package main

import "time"

func select2(n int64) time.Duration {
	a, b := make(chan int64), make(chan int64)
	produce := func(c chan<- int64, count int64) {
		for i := int64(0); i < count; i++ {
			c <- i
		}
	}
	var got [2]int64
	start := time.Now()
	go produce(a, n/2)
	go produce(b, n-n/2)
	for i := int64(0); i < n; i++ {
		select {
		case <-a:
			got[0]++
		case <-b:
			got[1]++
		}
	}
	elapsed := time.Since(start)
	check(got[0] == n/2 && got[1] == n-n/2, "every item received once")
	return elapsed
}

func select2Main(o options) {
	report("Select2", calibrate(o, select2), "ns/op")
}
