module goroutine/bench

go 1.19
