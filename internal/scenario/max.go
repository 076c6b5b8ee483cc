package scenario

import (
	"context"
	"fmt"
	"strings"

	"github.com/xagent/perfharness/internal/client"
)

// MaxClassName names the max-throughput class.
const MaxClassName = "MaxUser"

// MaxClass is a max-throughput user, like one of wrk's or hey's connections:
// it sends GET path again as soon as the answer is in, with no wait.
func MaxClass(path string) (Class, error) {
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n") {
		return Class{}, fmt.Errorf("path %q: want an absolute path such as /status", path)
	}
	req := client.Request{Method: "GET", Path: path, Name: "GET " + path}
	return Class{Name: MaxClassName, Weight: 1, Wait: Constant(0), Tasks: []Task{{
		Name: "get", Weight: 1,
		Run: func(ctx context.Context, u *User) error { u.Do(ctx, req); return nil },
	}}}, nil
}
