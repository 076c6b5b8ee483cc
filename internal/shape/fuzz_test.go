package shape

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParse feeds Parse arbitrary bytes: it must never panic; whatever it accepts
// validates again, survives a JSON round trip, and its Tick and arrival schedule
// behave.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(fixtures, "*.json"))
	require.NoError(f, err)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"kind": "users", "stages": []}`,
		`{"kind": "users", "stages": [{"duration": 1, "users": 1, "spawn_rate": 1e6}]}`,
		`{"kind": "users", "stages": [{"duration": "1ns", "users": 1000000, "spawn_rate": 1e-300}]}`,
		`{"kind": "rate", "start_rate": 3, "stages": [{"duration": "1h30m", "rate": 0}, {"duration": "0.5", "rate": 1e6}]}`,
		`{"kind": "rate", "stages": [{"duration": "2777h46m40s", "rate": 1e6}]}`,
		`{"kind": "rate", "stages": [{"duration": "1s", "rate": 5, "users": 0}]}`,
		`{"kind": "users", "stages": [{"duration": "NaN", "users": 1, "spawn_rate": 1}]}`,
		`{"kind": "users", "stages": [{"duration": "1s", "users": 1e400, "spawn_rate": 1}]} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "shape: "), err.Error())
			assert.Equal(t, Stages{}, s)
			return
		}
		require.NoError(t, s.Validate())
		require.NotEmpty(t, s.Stages)
		require.LessOrEqual(t, len(s.Stages), MaxStages)
		total := s.Total()
		require.Greater(t, total, time.Duration(0))
		require.LessOrEqual(t, total, MaxTotal)
		require.NotEmpty(t, s.String())

		out, err := json.Marshal(s)
		require.NoError(t, err)
		back, err := Parse(out)
		require.NoError(t, err, string(out))
		require.Equal(t, s, back, string(out))

		step, ok := s.Tick(0)
		require.True(t, ok)
		_, ok = s.Tick(total)
		require.False(t, ok)
		if s.Kind == KindUsers {
			require.Positive(t, step.SpawnRate)
			require.Zero(t, step.Rate)
			return
		}
		require.Zero(t, step.Users)
		n := s.ArrivalsBy(total)
		require.False(t, math.IsInf(n, 0) || math.IsNaN(n) || n < 0, "ArrivalsBy(Total) = %v", n)
		for _, k := range []float64{0, n / 3, n / 2, n} {
			d, ok := s.ArrivalTime(k)
			require.True(t, ok, "ArrivalTime(%v) of %v", k, n)
			require.True(t, d >= 0 && d <= total, "ArrivalTime(%v) = %v", k, d)
			require.InDelta(t, k, s.ArrivalsBy(d), 1e-6*max(1, k), "ArrivalsBy(ArrivalTime(%v))", k)
		}
	})
}
