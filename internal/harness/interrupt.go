package harness

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
)

// Interrupts turns SIGINT into a run's stop. The first closes Stop: the
// runner cancels the requests in flight and the run reports at once. The
// second writes what was recorded (what the running Run set with onAbort)
// and exits with status 130 without waiting for anything else.
type Interrupts struct {
	Stop  chan struct{}
	mu    sync.Mutex
	abort func()
	done  chan struct{}
	ended chan struct{}
	close func()
}

// Interrupt listens for SIGINT until Close.
func Interrupt(out io.Writer) *Interrupts {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt)
	in := Listen(sig, os.Exit, out)
	in.close = func() { signal.Stop(sig) }
	return in
}

// Listen is Interrupt on any signal channel and exit function (tests).
func Listen(sig <-chan os.Signal, exit func(int), out io.Writer) *Interrupts {
	in := &Interrupts{Stop: make(chan struct{}), done: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(in.ended)
		select {
		case <-sig:
			fmt.Fprintln(out, "\ninterrupt: stopping the run, cancelling the requests in flight (press Ctrl-C again to write what was recorded and exit at once)")
			close(in.Stop)
		case <-in.done:
			return
		}
		select {
		case <-sig:
			fmt.Fprintln(out, "\nsecond interrupt: writing what was recorded and exiting")
			in.mu.Lock()
			abort := in.abort
			in.mu.Unlock()
			if abort != nil {
				abort()
			}
			exit(130)
		case <-in.done:
		}
	}()
	return in
}

// Close stops listening.
func (in *Interrupts) Close() {
	if in.close != nil {
		in.close()
	}
	close(in.done)
	<-in.ended
}

// onAbort sets what a second SIGINT writes before the process exits.
func (in *Interrupts) onAbort(fn func()) {
	if in == nil {
		return
	}
	in.mu.Lock()
	in.abort = fn
	in.mu.Unlock()
}
