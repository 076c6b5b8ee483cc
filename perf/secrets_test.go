package perf

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xagent/perfharness/internal/fakeapi"
	"github.com/xagent/perfharness/internal/report"
	"github.com/xagent/perfharness/internal/xagent"
)

// secretKey is a signing key no output has any business printing.
const secretKey = "s3cr3t-signing-key-0123456789"

// tokenSpy serves the fake behind a handler that remembers every Authorization
// header it sees and, with echo, answers every third request carrying one with
// a 500 whose body quotes the header, as a careless server's error page would.
type tokenSpy struct {
	mu      sync.Mutex
	headers map[string]bool
	echoed  atomic.Int64
}

func (s *tokenSpy) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.headers))
	for h := range s.headers {
		out = append(out, h)
	}
	return out
}

// spyingFake serves the fake with opts (as misbehaving does) behind a tokenSpy.
func spyingFake(t *testing.T, opts fakeapi.Options, echo bool) (string, *tokenSpy) {
	t.Helper()
	f, err := fakeapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	spy := &tokenSpy{headers: map[string]bool{}}
	var authed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h != "" {
			spy.mu.Lock()
			spy.headers[h] = true
			spy.mu.Unlock()
			if echo && authed.Add(1)%3 == 0 {
				spy.echoed.Add(1)
				http.Error(w, "bad token: "+h, http.StatusInternalServerError)
				return
			}
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); f.Close() })
	return srv.URL, spy
}

// passwordContext matches the login password written out next to its key:
// "password":"admin", password=admin, password: 'admin'.
var passwordContext = regexp.MustCompile(`(?i)password["']?\s*[:=]\s*["']?` + regexp.QuoteMeta(xagent.LoginPassword))

// adminWord matches "admin" as a word. The login user name and password are
// both "admin", so an occurrence cannot be told apart from the password; the
// harness prints neither (request names are "POST /auth/login", failures name
// a status or a transport error), so any occurrence is a leak to look at.
var adminWord = regexp.MustCompile(`\b` + regexp.QuoteMeta(xagent.LoginPassword) + `\b`)

// TestCLISecretsNeverInOutputs runs the authenticated class against a fake that
// fails requests, writes every report, and checks that no credential reaches
// the console or a report file: no bearer header, no JWT (every token starts
// "eyJ", the base64 of `{"`), none of the tokens the server actually saw, not
// the server's signing key, not the login password.
func TestCLISecretsNeverInOutputs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		errorRate float64
		echo      bool
	}{
		// 30% of all requests, the login included, answered 500.
		{"failing server", 0.3, false},
		// Every third authenticated request answered 500 with the Authorization
		// header in the body: the client names a failure by its status and never
		// reads an unaccepted body into a failure text, so none of it may appear.
		{"server echoes the token in its error body", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opts := fakeapi.DefaultOptions()
			opts.SecretKey = secretKey
			opts.ErrorRate, opts.ErrorStatus = c.errorRate, 500
			host, spy := spyingFake(t, opts, c.echo)

			dir := t.TempDir()
			prefix := filepath.Join(dir, "r")
			files := report.Files{CSV: prefix, HTML: prefix + ".html", JSON: prefix + ".json"}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			out, err := runSelf(t, ctx, "-test.run", "^TestLoadLight$", "-host", host,
				"-classes", xagent.AuthenticatedUser, "-duration", "3s",
				"-csv", prefix, "-html", files.HTML, "-json-file", files.JSON,
				"-csv-full-history", "-csv-failure-times")
			// A third of the requests fail: the failure-rate target fails the run.
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("the run did not run: %v\n%s", err, out)
			}
			if !strings.Contains(out, "Aggregated") || strings.Contains(out, "panic:") {
				t.Fatalf("the run did not complete:\n%s", out)
			}
			if !strings.Contains(out, "Got status code 500") {
				t.Errorf("the failures are not named by their status:\n%s", out)
			}

			// The run really carried credentials: a login happened and tokens were sent.
			tokens := spy.seen()
			if len(tokens) == 0 {
				t.Fatalf("no request carried an Authorization header; the test proves nothing:\n%s", out)
			}
			if c.echo && spy.echoed.Load() == 0 {
				t.Fatalf("the server echoed no token")
			}
			forbidden := []string{"Bearer ", "eyJ", secretKey, `"password"`, "bad token"}
			for _, h := range tokens {
				forbidden = append(forbidden, h, strings.TrimPrefix(h, "Bearer "))
			}

			outputs := map[string][]byte{"console output": []byte(out)}
			for _, p := range files.Paths() {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("report %s: %v", p, err)
				}
				outputs[filepath.Base(p)] = b
			}
			if len(outputs) != 7 {
				t.Fatalf("want the console and six report files, got %d outputs", len(outputs))
			}
			for name, b := range outputs {
				for _, s := range forbidden {
					if i := bytes.Index(b, []byte(s)); i >= 0 {
						t.Errorf("%s leaks %q: …%s…", name, abbreviate(s), excerpt(b, i))
					}
				}
				if loc := passwordContext.FindIndex(b); loc != nil {
					t.Errorf("%s leaks the login password: …%s…", name, excerpt(b, loc[0]))
				}
				if loc := adminWord.FindIndex(b); loc != nil {
					t.Errorf("%s prints %q, the login password (and user name): …%s…", name, xagent.LoginPassword, excerpt(b, loc[0]))
				}
			}
			if !bytes.Contains(outputs["r_failures.csv"], []byte("Got status code 500")) {
				t.Errorf("r_failures.csv lacks the 500 failures:\n%s", outputs["r_failures.csv"])
			}
		})
	}
}

// abbreviate shortens a token for a failure message.
func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// excerpt is the text around b[i], for a failure message.
func excerpt(b []byte, i int) string {
	return string(b[max(i-60, 0):min(i+60, len(b))])
}
