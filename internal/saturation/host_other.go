//go:build !linux

package saturation

import "time"

// Steal and run-queue figures need Linux's /proc: elsewhere they read nothing.
func readSteal() (time.Duration, bool) { return 0, false }

type runQueue struct{}

func newRunQueue() *runQueue { return nil }

func (r *runQueue) read() (total, longest time.Duration, ok bool) { return 0, 0, false }

func (r *runQueue) close() {}
