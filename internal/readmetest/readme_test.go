package readmetest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/fakeapi"
)

// exampleBlock is the first ```go block after the heading.
func exampleBlock(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	rest := readme[i:]
	start := strings.Index(rest, "\n```go\n")
	if start < 0 {
		t.Fatalf("%q has no ```go block", heading)
	}
	rest = rest[start+len("\n```go\n"):]
	end := strings.Index(rest, "\n```\n")
	if end < 0 {
		t.Fatalf("%q: the ```go block does not end", heading)
	}
	return rest[:end+1]
}

// TestWritingYourOwnScenario runs the README's scenario file from a scratch
// module that requires this one, against the fake: the example compiles,
// passes, and its requests reach the server.
func TestWritingYourOwnScenario(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src := exampleBlock(t, string(readme), "## Writing your own scenario")
	mod := t.TempDir()
	goMod := "module example.com/myapi\n\ngo 1.26\n\nrequire github.com/xagent/perfharness v0.0.0\n\nreplace github.com/xagent/perfharness => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(goMod), "go.sum": sum, "example_test.go": []byte(src)} {
		if err := os.WriteFile(filepath.Join(mod, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	fake, err := fakeapi.New(fakeapi.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var logins atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/login" {
			logins.Add(1)
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); fake.Close() })

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "-short", "-v", "-run", "TestLoadMyAPI", ".", "-host", srv.URL)
	cmd.Dir = mod
	// The scratch module resolves everything from the checkout and the module
	// cache this repository's build filled: no network.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's example failed: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"--- PASS: TestLoadMyAPI", "--- PASS: TestLoadMyAPI/targets/median",
		"TestLoadMyAPI: 4 users at 10/s for 2s against " + srv.URL, "GET /status", "POST /auth/login"} {
		if !strings.Contains(text, want) {
			t.Errorf("the example's output lacks %q:\n%s", want, text)
		}
	}
	if logins.Load() == 0 {
		t.Errorf("no Writer logged in at the fake:\n%s", text)
	}
}
