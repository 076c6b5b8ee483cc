// Command fakeapi serves the in-process X-Agent API fake (internal/fakeapi) on
// a TCP address until SIGINT or SIGTERM:
//
//	go run ./scripts/fakeapi -addr 127.0.0.1:8000 -rate-limit -latency '*=lognormal:20ms:200ms'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/xagent/perfharness/internal/fakeapi"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses flags, serves until a signal, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fakeapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8000", "listen address")
	opts := fakeapi.DefaultOptions()
	opts.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fakeapi: unexpected arguments %q\n", fs.Args())
		return 2
	}
	srv, err := fakeapi.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "fakeapi: %v\n", err)
		return 2
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "fakeapi: cannot listen on %s: %v\n", *addr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "fakeapi: listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "fakeapi: serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	stop()
	srv.Close() // release stalled requests so shutdown can finish
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "fakeapi: shutdown: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "fakeapi: stopped")
	return 0
}
