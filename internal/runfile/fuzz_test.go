package runfile

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/xagent/perfharness/internal/compare"
	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// FuzzDecode feeds Decode arbitrary bytes: it must never panic, and whatever it
// accepts must encode to a file that decodes and encodes to the same bytes.
// Crashers it finds go to testdata/fuzz/FuzzDecode as regression seeds (none so far).
func FuzzDecode(f *testing.F) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(golden[:len(golden)/2])
	f.Add(bytes.Replace(golden, []byte(`"version": 1`), []byte(`"version": 2`), 1))
	f.Add(bytes.Replace(golden, []byte(`"requests": 2`), []byte(`"requests": -2`), 1))
	f.Add(bytes.Replace(golden, []byte(`"grade": "Target"`), []byte(`"grade": null`), 1))
	f.Add(bytes.Replace(golden, []byte(`"rps": `), []byte(`"rps": null, "x": `), 1))
	f.Add(bytes.ReplaceAll(golden, []byte(`"series": [`), []byte(`"series": [{}, `)))
	f.Add(bytes.Replace(golden, []byte(`"duration_s": 90.5`), []byte(`"duration_s": 1e3`), 1))
	h := hdrhistogram.New(1, 1<<40, 5)
	_ = h.RecordValue(1000)
	hostile, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"format":"xagent-perf-run","version":1,"stats":{"total":{"requests":1,"service_hist":"` + string(hostile) + `"}}}`))
	f.Add(smallRun(f))
	f.Add([]byte(`{"format":"xagent-perf-run","version":1}`))
	f.Add([]byte(`{"format":"xagent-perf-run","version":1,"meta":{"start":"2026-01-02T03:04:05.6+07:00","duration_s":0.000000001}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))

	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := Encode(&first, run); err != nil {
			t.Fatalf("Encode of a decoded run: %v", err)
		}
		again, err := Decode(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("Decode of a re-encoded run: %v\n%s", err, first.Bytes())
		}
		var second bytes.Buffer
		if err := Encode(&second, again); err != nil {
			t.Fatalf("second Encode: %v", err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("re-encoding is not stable:\n%s", firstDiff(first.Bytes(), second.Bytes()))
		}
	})
}

// smallRun is a compact file of one entry with one point, a check, an alert and
// a comparison row: small enough for mutations to reach every part.
func smallRun(f *testing.F) []byte {
	clk := &stepClock{t: t0, step: time.Second}
	rec := stats.NewRecorder(stats.WithClock(clk.now), stats.WithInterval(time.Hour), stats.WithEntryHistory())
	rec.Record(stats.Result{Method: "GET", Name: "/s", Start: t0, Intended: t0.Add(-time.Millisecond), Latency: 1500 * time.Microsecond, Error: "e"})
	snap := rec.Close()
	run := Run{
		Meta:    Meta{Scenario: "s", Duration: time.Second, Start: t0, Classes: []string{"c"}},
		Stats:   snap,
		Checks:  []target.Check{{Endpoint: "GET /s", Metric: "p95_ms", Value: 1.5, Grade: target.GradeTarget, Message: "m"}},
		Alerts:  []target.AlertResult{{Name: "max_avg_ms", Value: 1.5, Limit: 2, Message: "m"}},
		Verdict: Verdict{Reasons: []string{"r"}},
		Baseline: &compare.Result{Baseline: "b", Rows: []compare.Row{{Entry: "GET /s", Metric: "rps", Old: 1, New: 2}},
			OnlyInRun: []string{"x"}},
	}
	var buf, compact bytes.Buffer
	if err := Encode(&buf, run); err != nil {
		f.Fatal(err)
	}
	if err := json.Compact(&compact, buf.Bytes()); err != nil {
		f.Fatal(err)
	}
	return compact.Bytes()
}
