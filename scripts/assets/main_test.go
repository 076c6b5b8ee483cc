package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const committed = "../../internal/web/assets"

func runArgs(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// copyDir copies the committed assets into a temporary directory.
func copyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(committed)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(committed, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return dir
}

func TestCheckPassesOnCommittedFiles(t *testing.T) {
	out, errOut, err := runArgs("-check", "-dir", committed)
	require.NoError(t, err, errOut)
	assert.Contains(t, out, "up to date")
}

func TestDefaultDirIsFoundFromTheModuleRoot(t *testing.T) {
	out, errOut, err := runArgs("-check")
	require.NoError(t, err, errOut)
	assert.Contains(t, out, filepath.Join("internal", "web", "assets"))
}

func TestCheckFailsWhenAnAssetChanges(t *testing.T) {
	dir := copyDir(t)
	js := filepath.Join(dir, "app.js")
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(js, append(b, []byte("\n// changed\n")...), 0o644))

	_, errOut, err := runArgs("-check", "-dir", dir)
	require.ErrorIs(t, err, errStale)
	assert.Contains(t, errOut, "app.js.br")
	assert.Contains(t, errOut, "app.js.gz")
	assert.NotContains(t, errOut, "app.css", "only the changed file is stale")
	assert.Contains(t, errOut, "go generate ./internal/web")

	// Regenerating fixes it, and the copies decode to the new file.
	out, errOut, err := runArgs("-dir", dir)
	require.NoError(t, err, errOut)
	assert.Equal(t, "wrote app.js.br\nwrote app.js.gz\n", out)
	_, errOut, err = runArgs("-check", "-dir", dir)
	require.NoError(t, err, errOut)
	want, err := os.ReadFile(js)
	require.NoError(t, err)
	br, err := os.ReadFile(js + ".br")
	require.NoError(t, err)
	got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	gz, err := os.Open(js + ".gz")
	require.NoError(t, err)
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	require.NoError(t, err)
	assert.Empty(t, zr.Name, "no name in the gzip header")
	assert.True(t, zr.ModTime.IsZero(), "no time in the gzip header")
	got, err = io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestCheckFailsOnMissingAndOrphanedCopies(t *testing.T) {
	dir := copyDir(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "app.css.gz")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gone.js.br"), []byte("x"), 0o644))
	// A file that shrank to 1 KB or less no longer gets copies.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "LICENSE"), []byte("MIT"), 0o644))

	_, errOut, err := runArgs("-check", "-dir", dir)
	require.ErrorIs(t, err, errStale)
	for _, n := range []string{"app.css.gz", "gone.js.br", "LICENSE.br", "LICENSE.gz"} {
		assert.Contains(t, errOut, n)
	}

	out, errOut, err := runArgs("-dir", dir)
	require.NoError(t, err, errOut)
	assert.Equal(t, "wrote app.css.gz\nremoved LICENSE.br\nremoved LICENSE.gz\nremoved gone.js.br\n", out)
	_, errOut, err = runArgs("-check", "-dir", dir)
	require.NoError(t, err, errOut)
	assert.NoFileExists(t, filepath.Join(dir, "LICENSE.br"))
}

func TestSmallFilesGetNoCopies(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "small.js"), bytes.Repeat([]byte("a"), MinSize), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.js"), bytes.Repeat([]byte("a"), MinSize+1), 0o644))
	out, errOut, err := runArgs("-dir", dir)
	require.NoError(t, err, errOut)
	assert.Equal(t, "wrote big.js.br\nwrote big.js.gz\n", out)
}

func TestDeterministic(t *testing.T) {
	in := []byte(strings.Repeat("uPlot ", 1000))
	a, err := Gzip(in)
	require.NoError(t, err)
	b, err := Gzip(in)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	c, err := Brotli(in)
	require.NoError(t, err)
	d, err := Brotli(in)
	require.NoError(t, err)
	assert.Equal(t, c, d)
}

func TestBadArguments(t *testing.T) {
	_, _, err := runArgs("-dir", filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
	assert.False(t, errors.Is(err, errStale))
	_, _, err = runArgs("extra")
	assert.ErrorContains(t, err, "unexpected arguments")
}

// TestMain runs the command itself when the test re-executes its binary with
// ASSETS_RUN_MAIN set, so TestExitStatus sees main's real exit status.
func TestMain(m *testing.M) {
	if os.Getenv("ASSETS_RUN_MAIN") == "1" {
		os.Args = append([]string{"assets"}, strings.Fields(os.Getenv("ASSETS_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestExitStatus(t *testing.T) {
	dir := t.TempDir() // small, for the runs below compress it afresh
	css := filepath.Join(dir, "app.css")
	require.NoError(t, os.WriteFile(css, []byte(strings.Repeat("body{}\n", 300)), 0o644))
	_, errOut, err := runArgs("-dir", dir)
	require.NoError(t, err, errOut)
	exe, err := os.Executable()
	require.NoError(t, err)
	status := func(args string) (int, string) {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "ASSETS_RUN_MAIN=1", "ASSETS_ARGS="+args)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		}
		require.NoError(t, err)
		return 0, string(out)
	}
	code, out := status("-check -dir " + dir)
	assert.Equal(t, 0, code, out)
	require.NoError(t, os.WriteFile(css, []byte(strings.Repeat("p{}\n", 300)), 0o644))
	code, out = status("-check -dir " + dir)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "app.css.br")
	code, out = status("-dir " + filepath.Join(dir, "missing"))
	assert.Equal(t, 2, code, out)
}
