//go:build linux

package saturation

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of /proc/stat's times: USER_HZ, 100 on every Linux
// architecture Go supports.
const userHZ = 100

// readSteal returns the CPU time stolen by the hypervisor so far, summed over
// all CPUs (the "steal" column of /proc/stat's cpu line).
func readSteal() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	// cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, false
	}
	ticks, err := strconv.ParseInt(string(f[8]), 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ticks) * (time.Second / userHZ), true
}

// runQueue reads how long the process's threads have waited, runnable, for a
// CPU in the OS run queue: the second field of /proc/self/task/TID/schedstat.
// It keeps each thread's file open (a read is then one pread, about 2 µs) and
// lists the threads again every runQueueRelist. A thread counts from when it
// is first seen; one that exits keeps what it added.
type runQueue struct {
	threads map[string]*rqThread
	listed  time.Time
	total   time.Duration // summed increases since each thread was first seen
	buf     [128]byte
}

type rqThread struct {
	f    *os.File
	last time.Duration
}

const runQueueRelist = time.Second

func newRunQueue() *runQueue {
	r := &runQueue{threads: map[string]*rqThread{}}
	if !r.list() {
		return nil
	}
	return r
}

// list opens the threads not yet open; false when /proc/self/task cannot be read.
func (r *runQueue) list() bool {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return false
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return false
	}
	r.listed = time.Now()
	for _, tid := range names {
		if _, ok := r.threads[tid]; ok {
			continue
		}
		f, err := os.Open("/proc/self/task/" + tid + "/schedstat")
		if err != nil {
			continue // exited meanwhile
		}
		th := &rqThread{f: f}
		if v, ok := r.readOne(th); ok {
			th.last = v
			r.threads[tid] = th
		} else {
			f.Close()
		}
	}
	return len(r.threads) > 0
}

func (r *runQueue) readOne(th *rqThread) (time.Duration, bool) {
	n, _ := th.f.ReadAt(r.buf[:], 0)
	f := bytes.Fields(r.buf[:n])
	if len(f) < 2 {
		return 0, false
	}
	ns, err := strconv.ParseInt(string(f[1]), 10, 64)
	return time.Duration(ns), err == nil
}

// read returns the run-queue wait so far, summed over the threads, and the
// largest increase one thread's wait had since the last read.
func (r *runQueue) read() (total, longest time.Duration, ok bool) {
	if r == nil {
		return 0, 0, false
	}
	if time.Since(r.listed) >= runQueueRelist {
		r.list()
	}
	for tid, th := range r.threads {
		v, ok := r.readOne(th)
		if !ok { // the thread exited
			th.f.Close()
			delete(r.threads, tid)
			continue
		}
		if v > th.last {
			r.total += v - th.last
			longest = max(longest, v-th.last)
		}
		th.last = v
	}
	return r.total, longest, true
}

func (r *runQueue) close() {
	if r == nil {
		return
	}
	for _, th := range r.threads {
		th.f.Close()
	}
	r.threads = nil
}
