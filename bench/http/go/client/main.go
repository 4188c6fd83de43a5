// HTTP client benchmark program on Go's net/http; see bench/http/README.md.
//
//	http-go-client PORT REQUESTS CONCURRENCY        (the driver runs it with GOMAXPROCS=1)
//
// Client protocol: set up, print "ready", wait for a line on stdin, make REQUESTS GETs of
// http://127.0.0.1:PORT/ from CONCURRENCY goroutines sharing one http.Client whose Transport keeps
// up to CONCURRENCY idle connections per host, check each status is 200 and each body is 27 bytes,
// print one JSON line, then wait for the end of stdin and exit.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const bodyLength = 27 // {"message":"Hello, World!"}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: http-go-client PORT REQUESTS CONCURRENCY")
		os.Exit(2)
	}
	var n [3]int
	for i, a := range os.Args[1:] {
		v, err := strconv.Atoi(a)
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "http-go-client: bad argument %q\n", a)
			os.Exit(2)
		}
		n[i] = v
	}
	port, requests, concurrency := n[0], int64(n[1]), n[2]
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	transport := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency}
	client := &http.Client{Transport: transport}

	stdin := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	stdin.ReadString('\n')

	var todo = requests
	var failed int64
	var firstErr atomic.Value
	fail := func(msg string) {
		atomic.AddInt64(&failed, 1)
		firstErr.CompareAndSwap(nil, msg)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&todo, -1) >= 0 {
				resp, err := client.Get(url)
				if err != nil {
					fail(err.Error())
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					fail(err.Error())
				} else if resp.StatusCode != 200 || len(body) != bodyLength {
					fail(fmt.Sprintf("status %d, %d body bytes", resp.StatusCode, len(body)))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	out, _ := json.Marshal(map[string]any{"requests": requests, "failed": failed, "seconds": elapsed,
		"rps": float64(requests) / elapsed})
	fmt.Println(string(out))
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "http-go-client: %d failed requests, first: %v\n", failed, firstErr.Load())
	}
	io.Copy(io.Discard, stdin)
	if failed > 0 {
		os.Exit(1)
	}
}
