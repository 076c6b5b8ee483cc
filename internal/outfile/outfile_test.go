package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpandPlaceholders(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "out/run_10u_2.5r_60s.html", Expand("out/run_{u}u_{r}r_{t}s.html", 10, 2.5, time.Minute))
	assert.Equal(t, "plain.json", Expand("plain.json", 1, 1, time.Second))
}

func TestWriteReplacesAtomicallyAndKeepsOldFileOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "r.csv")
	require.NoError(t, Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "one\n"); return err }))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "one\n", string(b))

	boom := errors.New("renderer failed")
	err = Write(path, func(w io.Writer) error { io.WriteString(w, "half"); return boom })
	require.ErrorIs(t, err, boom)
	b, _ = os.ReadFile(path)
	assert.Equal(t, "one\n", string(b), "a failed write leaves the previous file")
	left, _ := os.ReadDir(filepath.Dir(path))
	assert.Len(t, left, 1, "no temporary file is left behind")
}

func TestCheckRefusesUnwritablePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, Check(filepath.Join(dir, "new", "deeper", "x.html")), "missing directories are made")
	err := Check(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a directory")
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	err = Check(filepath.Join(file, "x.html"))
	require.Error(t, err, "a path under a regular file cannot be made")
	assert.Contains(t, err.Error(), "cannot create directory")
	left, _ := os.ReadDir(dir)
	assert.Len(t, left, 2, "the probe file is removed")
}

func TestAppenderFlushesEachAppend(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "h.csv")
	a, err := Create(path)
	require.NoError(t, err)
	for _, line := range []string{"a\n", "b\n"} {
		require.NoError(t, a.Append(func(w io.Writer) error { _, err := io.WriteString(w, line); return err }))
		b, _ := os.ReadFile(path)
		assert.True(t, strings.HasSuffix(string(b), line), "visible on disk before Close")
	}
	require.NoError(t, a.Close())
}
