// Package outfile writes report files safely: a path is checked for
// writability before a run starts, a file is written to a temporary file in
// its directory and renamed into place, so a reader never sees half a report,
// and Locust's {u}, {r} and {t} placeholders are expanded in names.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Expand replaces Locust's placeholders in a report path: {u} users, {r} spawn
// rate and {t} run time in seconds.
func Expand(path string, users int, spawnRate float64, runTime time.Duration) string {
	return strings.NewReplacer(
		"{u}", strconv.Itoa(users),
		"{r}", strconv.FormatFloat(spawnRate, 'f', -1, 64),
		"{t}", strconv.FormatInt(int64(runTime.Round(time.Second)/time.Second), 10),
	).Replace(path)
}

// Check makes path's directory if needed and proves a file can be created
// there, so a bad path fails before a run rather than after it.
func Check(path string) error {
	if path == "" {
		return errors.New("empty path")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create directory for %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".check-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Write writes path atomically: fill writes a temporary file in the same
// directory, which replaces path only when fill and the writes succeeded.
func Write(path string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := fill(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Appender writes a file line by line as a run goes (a history a crash must
// not lose): each Append is flushed to the file before it returns.
type Appender struct {
	path string
	f    *os.File
	bw   *bufio.Writer
}

// Create truncates or creates path for appending.
func Create(path string) (*Appender, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &Appender{path: path, f: f, bw: bufio.NewWriter(f)}, nil
}

// Append writes what fill writes and flushes it to the file.
func (a *Appender) Append(fill func(w io.Writer) error) error {
	if err := fill(a.bw); err != nil {
		return fmt.Errorf("append to %s: %w", a.path, err)
	}
	if err := a.bw.Flush(); err != nil {
		return fmt.Errorf("append to %s: %w", a.path, err)
	}
	return nil
}

// Close closes the file.
func (a *Appender) Close() error {
	if err := a.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", a.path, err)
	}
	return nil
}
