// Command assets precompresses the web UI's files: for each file over 1 KB in
// internal/web/assets it writes a brotli copy (NAME.br, best compression) and a
// gzip copy (NAME.gz, best compression, no name or time in the header, so the
// bytes depend only on the input), which the UI serves to browsers that accept
// them. It removes copies whose original is gone or now 1 KB or smaller.
//
//	go run ./scripts/assets           # (re)write the copies; go generate ./internal/web runs this
//	go run ./scripts/assets -check    # exit 1 listing stale copies, writing nothing (CI)
//	go run ./scripts/assets -dir DIR  # another directory (tests)
//
// Without -dir it finds internal/web/assets from the module root above the
// working directory, so it works from the root and from internal/web.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// MinSize is the size a file must exceed to get compressed copies.
const MinSize = 1024

// errStale is -check's exit status 1.
var errStale = errors.New("stale")

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errStale):
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "assets:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("assets", flag.ContinueOnError)
	fl.SetOutput(stderr)
	check := fl.Bool("check", false, "verify the compressed copies are up to date, writing nothing; exit 1 when stale")
	dir := fl.String("dir", "", "the assets directory (default internal/web/assets under the module root)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	if *dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		*dir = filepath.Join(root, "internal", "web", "assets")
	}
	want, err := expected(*dir)
	if err != nil {
		return err
	}
	stale, extra, err := compare(*dir, want)
	if err != nil {
		return err
	}
	if *check {
		if len(stale)+len(extra) == 0 {
			fmt.Fprintf(stdout, "assets: %d compressed copies in %s are up to date\n", len(want), *dir)
			return nil
		}
		fmt.Fprintf(stderr, "assets: compressed copies in %s are stale:\n", *dir)
		for _, n := range stale {
			fmt.Fprintf(stderr, "  %s (differs from its original or is missing)\n", n)
		}
		for _, n := range extra {
			fmt.Fprintf(stderr, "  %s (its original is gone or 1 KB or smaller)\n", n)
		}
		fmt.Fprintln(stderr, "run: go generate ./internal/web (or go run ./scripts/assets), and commit the result")
		return errStale
	}
	for _, n := range stale {
		if err := os.WriteFile(filepath.Join(*dir, n), want[n], 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", n)
	}
	for _, n := range extra {
		if err := os.Remove(filepath.Join(*dir, n)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "removed", n)
	}
	return nil
}

// compressed reports whether name is one of the copies this command makes.
func compressed(name string) bool {
	return strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz")
}

// expected returns every copy the directory should hold, by name.
func expected(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	want := map[string][]byte{}
	for _, e := range ents {
		if !e.Type().IsRegular() || compressed(e.Name()) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if len(b) <= MinSize {
			continue
		}
		c, err := compress(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		want[e.Name()+".br"] = c.br
		want[e.Name()+".gz"] = c.gz
	}
	return want, nil
}

type copies struct{ br, gz []byte }

// memo keeps each content's copies, for a process that runs more than once (tests).
var memo = struct {
	sync.Mutex
	m map[[sha256.Size]byte]copies
}{m: map[[sha256.Size]byte]copies{}}

func compress(b []byte) (copies, error) {
	key := sha256.Sum256(b)
	memo.Lock()
	c, ok := memo.m[key]
	memo.Unlock()
	if ok {
		return c, nil
	}
	var err error
	if c.br, err = Brotli(b); err != nil {
		return copies{}, err
	}
	if c.gz, err = Gzip(b); err != nil {
		return copies{}, err
	}
	memo.Lock()
	memo.m[key] = c
	memo.Unlock()
	return c, nil
}

// compare lists the copies that differ from want or are missing (stale), and
// the copies on disk that want lacks (extra), each sorted.
func compare(dir string, want map[string][]byte) (stale, extra []string, err error) {
	for n, b := range want {
		have, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		if err != nil || !bytes.Equal(have, b) {
			stale = append(stale, n)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		if _, ok := want[e.Name()]; !ok && compressed(e.Name()) && e.Type().IsRegular() {
			extra = append(extra, e.Name())
		}
	}
	slices.Sort(stale)
	slices.Sort(extra)
	return stale, extra, nil
}

// Brotli compresses b at the best quality.
func Brotli(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Gzip compresses b at the best level with an empty header (no name, no
// modification time), so equal input gives equal bytes.
func Gzip(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// moduleRoot is the nearest directory at or above the working one with a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory: pass -dir")
		}
		dir = parent
	}
}
