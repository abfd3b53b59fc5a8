package main

// Echo is the twin of bench/echo.c: a loopback TCP echo server with one
// goroutine per connection, and 1,000 client connections, each on its own
// goroutine, doing round trips of a 64-byte message. One operation is one
// round trip; n operations are spread evenly over the connections, which
// all run at once. Connections are made once, before calibration. The net
// package sets TCP_NODELAY on every TCP connection; the C side does too.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

const (
	echoMessage          = 64
	echoConnections      = 1000
	echoQuickConnections = 50
)

// Registered here rather than in main.go's table, so the workload lives in
// one file.
func init() { workloads["Echo"] = echoMain }

type echoClient struct {
	id    int
	conn  net.Conn
	work  chan int64 // round trips to make; closed at the end
	round *sync.WaitGroup
}

func fillMessage(msg []byte, id int, trip int64) {
	for k := range msg {
		msg[k] = byte(int64(id)*31 + trip*7 + int64(k))
	}
}

// echoServe echoes whatever arrives until the client closes.
func echoServe(conn net.Conn, done *sync.WaitGroup) {
	buf := make([]byte, 4*echoMessage)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			_, werr := conn.Write(buf[:n])
			check(werr == nil, "server write")
		}
		if err != nil {
			check(err == io.EOF, "server read")
			break
		}
	}
	conn.Close()
	done.Done()
}

func (c *echoClient) run(exited *sync.WaitGroup) {
	msg := make([]byte, echoMessage)
	echo := make([]byte, echoMessage)
	for trips := range c.work {
		for t := int64(0); t < trips; t++ {
			fillMessage(msg, c.id, t)
			_, err := c.conn.Write(msg)
			check(err == nil, "client write")
			_, err = io.ReadFull(c.conn, echo)
			check(err == nil, "client read")
			check(bytes.Equal(msg, echo), "echoed bytes")
		}
		c.round.Done()
	}
	c.conn.Close()
	exited.Done()
}

func echoMain(o options) {
	count := echoConnections
	if o.quick {
		count = echoQuickConnections
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err == nil, "listen on 127.0.0.1")
	var servers sync.WaitGroup
	servers.Add(count)
	go func() {
		for i := 0; i < count; i++ {
			conn, err := ln.Accept()
			check(err == nil, "accept")
			go echoServe(conn, &servers)
		}
	}()

	var round, exited sync.WaitGroup
	exited.Add(count)
	clients := make([]*echoClient, count)
	for i := range clients {
		conn, err := net.Dial("tcp", ln.Addr().String())
		check(err == nil, "connect")
		clients[i] = &echoClient{id: i, conn: conn, work: make(chan int64, 1), round: &round}
		go clients[i].run(&exited)
	}

	ns := calibrate(o, func(n int64) time.Duration {
		round.Add(count)
		start := time.Now()
		for i, c := range clients {
			trips := n / int64(count)
			if int64(i) < n%int64(count) {
				trips++
			}
			c.work <- trips
		}
		round.Wait()
		return time.Since(start)
	})
	name := fmt.Sprintf("Echo/%dconns", count)
	report(name, ns, "ns/op")
	report(name, 1e9/ns, "msg/s")

	for _, c := range clients {
		close(c.work)
	}
	exited.Wait()
	servers.Wait()
	ln.Close()
}
