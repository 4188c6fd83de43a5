// Peer benchmark: Go goroutines (spawn, spawn_all, switch, timers, sleepers); see bench/peers/README.md.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func rssKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), field+":") {
			v, _ := strconv.ParseInt(strings.Fields(s.Text())[1], 10, 64)
			return v
		}
	}
	return 0
}

// delaysMs is the shared LCG every peer uses: uniform integer delays in [0, 1000] ms.
func delaysMs(n int) []int {
	x, out := uint32(42), make([]int, n)
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = int((x >> 8) % 1001)
	}
	return out
}

func spawn(n int) {
	s := 0
	for i := 0; i < n; i++ {
		done := make(chan int, 1)
		go func(i int) { done <- i }(i)
		s += <-done
	}
	if s != n*(n-1)/2 {
		panic("bad sum")
	}
}

func spawnAll(n int) {
	var wg sync.WaitGroup
	results := make([]int, n)
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) { results[i] = i; wg.Done() }(i)
	}
	wg.Wait()
	s := 0
	for _, r := range results {
		s += r
	}
	if s != n*(n-1)/2 {
		panic("bad sum")
	}
}

func pingPong(n int) {
	q1, q2 := make(chan int), make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			q2 <- <-q1
		}
	}()
	for i := 0; i < n; i++ {
		q1 <- i
		if <-q2 != i {
			panic("bad value")
		}
	}
}

func sleepAll(ms []int) {
	var wg sync.WaitGroup
	wg.Add(len(ms))
	for _, d := range ms {
		go func(d int) { time.Sleep(time.Duration(d) * time.Millisecond); wg.Done() }(d)
	}
	wg.Wait()
}

func main() {
	workload := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	var ms []int
	switch workload {
	case "timers":
		ms = delaysMs(n)
	case "sleepers":
		ms = make([]int, n)
		for i := range ms {
			ms[i] = 1000
		}
	}
	base := rssKB("VmRSS")
	t0 := time.Now()
	switch workload {
	case "spawn":
		spawn(n)
	case "spawn_all":
		spawnAll(n)
	case "switch":
		pingPong(n)
	case "timers", "sleepers":
		sleepAll(ms)
	default:
		panic("unknown workload " + workload)
	}
	wall := time.Since(t0)
	peak := rssKB("VmHWM")
	out := map[string]any{"peer": "go", "workload": workload, "n": n,
		"ns_per_op": float64(wall.Nanoseconds()) / float64(n), "wall_ms": float64(wall.Nanoseconds()) / 1e6,
		"baseline_rss_kb": base, "peak_rss_kb": peak, "bytes_per_task": float64(peak-base) * 1024 / float64(n)}
	if ms != nil {
		mx := 0
		for _, d := range ms {
			if d > mx {
				mx = d
			}
		}
		out["max_sleep_ms"] = mx
		out["lateness_ms"] = float64(wall.Nanoseconds())/1e6 - float64(mx)
	}
	b, _ := json.Marshal(out)
	os.Stdout.Write(append(b, '\n'))
}
