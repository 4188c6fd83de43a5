// TCP echo server on Go's net package (one goroutine per connection); see bench/echo/README.md.
//
//	echo-go PORT [--tls CERT KEY]        (the driver runs it with GOMAXPROCS=1)
//
// With --tls the listener is wrapped by crypto/tls (tls.NewListener); the handshake runs on
// the connection's first Read.
package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"time"
)

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	tlsMode := len(os.Args) == 5 && os.Args[2] == "--tls"
	if len(os.Args) != 2 && !tlsMode {
		fmt.Fprintln(os.Stderr, "usage: echo-go PORT [--tls CERT KEY]")
		os.Exit(2)
	}
	// Go sets SO_REUSEADDR on listeners, TCP_NODELAY on connections, and (since 1.19) raises
	// RLIMIT_NOFILE's soft limit to the hard limit at start-up.
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo-go:", err)
		os.Exit(1)
	}
	if tlsMode {
		cert, err := tls.LoadX509KeyPair(os.Args[3], os.Args[4])
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo-go:", err)
			os.Exit(1)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo-go: accept:", err)
			time.Sleep(time.Millisecond)
			continue
		}
		go serve(c)
	}
}
