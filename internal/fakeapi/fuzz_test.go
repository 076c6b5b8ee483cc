package fakeapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzServer is a small-store server shared by one fuzz target's inputs.
func fuzzServer(f *testing.F) (*Server, string) {
	s, err := New(Options{MaxGoals: 1000})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	tok, err := s.IssueToken("admin", "admin", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	return s, tok
}

// checkAnswer fails on a 5xx or on a JSON answer that is not JSON.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	ok := false
	for _, a := range allowed {
		ok = ok || w.Code == a
	}
	if !ok {
		t.Fatalf("status %d not in %v: %s", w.Code, allowed, w.Body.String())
	}
	if w.Header().Get("Content-Type") == "application/json" && !json.Valid(w.Body.Bytes()) {
		t.Fatalf("invalid JSON answer: %q", w.Body.String())
	}
}

// bodySeeds are shared request bodies for the body fuzzers.
var bodySeeds = []string{
	``, `{}`, `null`, `[]`, `"x"`, `1`, `{"username":"admin","password":"admin"}`,
	`{"username":1,"password":null}`, `{"description":"Performance test goal","mode":"one_time","priority":5}`,
	`{"description":"d","priority":"7","completion_criteria":["a",2]}`, `{"description":"d","priority":1e400}`,
	`{"description":"d","priority":-99999999999999999999999}`, `{"command":"go"}`, `{"command":"\u0000\ud800"}`,
	`{"description":`, `{"a":1}}`, "{\"description\":\"\xff\"}", `{"description":"x","priority":true}`,
	`{"description":"x","priority":10.0}`, `  {"command" : "spaced" }  `,
}

func FuzzLoginBody(f *testing.F) {
	s, _ := fuzzServer(f)
	for _, b := range bodySeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := serve(s, req{method: "POST", path: "/auth/login", body: body})
		checkAnswer(t, w, 200, 400, 422)
		if w.Code == 200 {
			var resp struct {
				User struct{ Username, Role string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if (resp.User.Username == "admin") != (resp.User.Role == "admin") {
				t.Fatalf("role %q for %q", resp.User.Role, resp.User.Username)
			}
		}
	})
}

func FuzzCreateGoalBody(f *testing.F) {
	s, tok := fuzzServer(f)
	for _, b := range bodySeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := serve(s, req{method: "POST", path: "/goals", body: body, header: bearer(tok)})
		checkAnswer(t, w, 200, 400, 422)
		if w.Code != 200 {
			return
		}
		var resp struct {
			Goal struct {
				ID          string
				Description string
				Priority    int
				Mode        string
			}
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		var in map[string]json.RawMessage
		var desc string
		if err := json.Unmarshal([]byte(body), &in); err != nil || json.Unmarshal(in["description"], &desc) != nil {
			t.Fatalf("accepted a body without a string description: %q", body)
		}
		if resp.Goal.Description != desc {
			t.Fatalf("description %q came back as %q", desc, resp.Goal.Description)
		}
		if resp.Goal.Priority < 1 || resp.Goal.Priority > 10 {
			t.Fatalf("priority %d stored", resp.Goal.Priority)
		}
		if resp.Goal.Mode != "goal_oriented" && resp.Goal.Mode != "continuous" {
			t.Fatalf("mode %q stored", resp.Goal.Mode)
		}
		if serve(s, req{method: "GET", path: "/goals/" + resp.Goal.ID, header: bearer(tok)}).Code != 200 {
			t.Fatalf("created goal %s not found", resp.Goal.ID)
		}
	})
}

func FuzzCommandBody(f *testing.F) {
	s, tok := fuzzServer(f)
	for _, b := range bodySeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := serve(s, req{method: "POST", path: "/command", body: body, header: bearer(tok)})
		checkAnswer(t, w, 200, 400, 422)
		if w.Code == 200 && !strings.HasPrefix(w.Body.String(), `{"status":"sent","message":"Command sent: `) {
			t.Fatalf("answer %s", w.Body.String())
		}
	})
}

func FuzzListGoalsQuery(f *testing.F) {
	s, tok := fuzzServer(f)
	for i := range 30 {
		serve(s, req{method: "POST", path: "/goals", body: `{"description":"g","priority":` + string(rune('1'+i%9)) + `}`, header: bearer(tok)})
	}
	for _, q := range []string{"", "page=0", "page_size=101", "priority_min=11", "sort_by=bogus", "page=abc",
		"page=2&page_size=5&sort_by=priority&sort_order=asc", "status=pending&mode=continuous", "page=99999999999999999999999",
		"page=%zz", "page=+3", "page=3.0", "priority_min=5&priority_max=2", "&&=&page=", "sort_order=DESC", "page= 2 "} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/goals", nil)
		r.URL.RawQuery = query
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		checkAnswer(t, w, 200, 422)
		if w.Code != 200 {
			return
		}
		var resp struct {
			Total      int64             `json:"total"`
			Page       int64             `json:"page"`
			PageSize   int64             `json:"page_size"`
			TotalPages int64             `json:"total_pages"`
			Goals      []json.RawMessage `json:"goals"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Page < 1 || resp.PageSize < 1 || resp.PageSize > 100 || int64(len(resp.Goals)) > resp.PageSize ||
			int64(len(resp.Goals)) > resp.Total || resp.Total > 0 && resp.Page > resp.TotalPages {
			t.Fatalf("inconsistent page: %s", w.Body.String())
		}
	})
}

func FuzzAuthorizationHeader(f *testing.F) {
	s, tok := fuzzServer(f)
	for _, h := range []string{"", "Bearer", "Bearer ", "Bearer " + tok, "bearer " + tok, "Basic abc", "Bearer a.b.c",
		"Bearer " + tok + "x", "Bearer eyJhbGciOiJub25lIn0.e30.", "Token " + tok, "Bearer  " + tok, "Bearer \x00"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, auth string) {
		r := httptest.NewRequest("GET", "/goals", nil)
		r.Header["Authorization"] = []string{auth}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		checkAnswer(t, w, 200, 401, 403)
		if w.Code == 200 && auth != "Bearer "+tok && !strings.EqualFold(auth, "bearer "+tok) {
			t.Fatalf("accepted %q", auth)
		}
		r = httptest.NewRequest("GET", "/status", nil)
		r.Header["Authorization"] = []string{auth}
		w = httptest.NewRecorder()
		s.ServeHTTP(w, r)
		checkAnswer(t, w, 200)
	})
}
