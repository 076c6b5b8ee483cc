package harness

import (
	"io"
	"os"
	"sync/atomic"
	"testing"
)

// A second Ctrl-C writes what was recorded and exits at once with status
// 130. (Signals are not queued: two sent back to back reach the process as
// one, so this is tested on the listener itself.)
func TestSecondInterruptWritesWhatWasRecordedAndExits(t *testing.T) {
	sig := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	var aborted atomic.Int32
	in := Listen(sig, func(code int) { exited <- code }, io.Discard)
	defer in.Close()
	in.onAbort(func() { aborted.Add(1) })
	sig <- os.Interrupt
	<-in.Stop // the first stops the run
	if aborted.Load() != 0 || len(exited) != 0 {
		t.Fatal("the first interrupt must only stop the run")
	}
	sig <- os.Interrupt
	if code := <-exited; code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	if aborted.Load() != 1 {
		t.Errorf("the second interrupt must write what was recorded once, wrote %d times", aborted.Load())
	}
}

// The reports are written once: by the end of the run or by a second
// interrupt, whichever comes first; the other waits and writes nothing.
func TestReportsAreWrittenOnce(t *testing.T) {
	var w onceWriter
	var n atomic.Int32
	done := make(chan struct{})
	for range 2 {
		go func() {
			w.write(func() { n.Add(1) })
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	if n.Load() != 1 {
		t.Errorf("written %d times", n.Load())
	}
}
