// HTTP/1.1 JSON server on Go's net/http; see bench/http/README.md.
//
//	http-go-server PORT        (the driver runs it with GOMAXPROCS=1)
//
// One handler for "/" that encodes {"message":"Hello, World!"} with encoding/json per request.
// net/http keeps connections alive, adds the Date header, and answers pipelined requests in order.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
)

type message struct {
	Message string `json:"message"`
}

func hello(w http.ResponseWriter, r *http.Request) {
	body, err := json.Marshal(message{Message: "Hello, World!"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.Write(body)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: http-go-server PORT")
		os.Exit(2)
	}
	// Go sets SO_REUSEADDR on listeners and TCP_NODELAY on connections.
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "http-go-server:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", hello)
	fmt.Println("ready")
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "http-go-server:", err)
		os.Exit(1)
	}
}
