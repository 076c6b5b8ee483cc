package shape

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixtures = filepath.Join("..", "..", "fixtures", "shapes")

func TestLoadShippedFixtures(t *testing.T) {
	t.Parallel()
	ramp, err := Load(filepath.Join(fixtures, "ramp.json"))
	require.NoError(t, err)
	assert.Equal(t, Stages{Kind: KindUsers, Stages: []Stage{
		{Duration: 60 * time.Second, Users: 10, SpawnRate: 1},
		{Duration: 60 * time.Second, Users: 50, SpawnRate: 2},
		{Duration: 60 * time.Second, Users: 100, SpawnRate: 5},
	}}, ramp)
	assert.Equal(t, 3*time.Minute, ramp.Total())

	arrival, err := Load(filepath.Join(fixtures, "arrival.json"))
	require.NoError(t, err)
	assert.Equal(t, Stages{Kind: KindRate, Stages: []Stage{
		{Duration: 30 * time.Second, Rate: 20},
		{Duration: 60 * time.Second, Rate: 20},
		{Duration: 30 * time.Second, Rate: 0},
	}}, arrival)
	assert.Equal(t, 2*time.Minute, arrival.Total())
	assert.Equal(t, 300+1200+300.0, arrival.ArrivalsBy(arrival.Total()))

	// Every shipped shape loads.
	paths, err := filepath.Glob(filepath.Join(fixtures, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		_, err := Load(p)
		assert.NoError(t, err, p)
	}
}

func TestParseForms(t *testing.T) {
	t.Parallel()
	s, err := Parse([]byte(`{"stages": [{"spawn_rate": 0.5, "users": 0, "duration": 90},
		{"duration": "1m30s", "users": 1e3, "spawn_rate": 2}, {"duration": "2.5", "users": 3, "spawn_rate": 1},
		{"duration": "250ms", "users": 3, "spawn_rate": 1}, {"duration": " 5m ", "users": 3, "spawn_rate": 1}], "kind": "users"}`))
	require.NoError(t, err)
	assert.Equal(t, []Stage{
		{Duration: 90 * time.Second, Users: 0, SpawnRate: 0.5},
		{Duration: 90 * time.Second, Users: 1000, SpawnRate: 2},
		{Duration: 2500 * time.Millisecond, Users: 3, SpawnRate: 1},
		{Duration: 250 * time.Millisecond, Users: 3, SpawnRate: 1},
		{Duration: 5 * time.Minute, Users: 3, SpawnRate: 1},
	}, s.Stages)

	s, err = Parse([]byte(`{"kind": "rate", "start_rate": 7.5, "stages": [{"duration": "1h", "rate": 0}]}`))
	require.NoError(t, err)
	assert.Equal(t, Stages{Kind: KindRate, StartRate: 7.5, Stages: []Stage{{Duration: time.Hour}}}, s)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	users := func(stages ...string) string {
		return `{"kind": "users", "stages": [` + strings.Join(stages, ",") + `]}`
	}
	rate := func(stages ...string) string {
		return `{"kind": "rate", "stages": [` + strings.Join(stages, ",") + `]}`
	}
	ok := `{"duration": "1s", "users": 1, "spawn_rate": 1}`
	okRate := `{"duration": "1s", "rate": 1}`
	many := strings.TrimSuffix(strings.Repeat(ok+",", MaxStages+1), ",")
	huge := `{"kind": "users", "stages": [` + ok + `]}` + strings.Repeat(" ", MaxFileSize)
	for _, tc := range []struct{ name, in, want string }{
		{"empty", ``, `empty: want a JSON object {"kind": "users", "stages": [...]}`},
		{"syntax", `{"kind": "users",`, `invalid JSON: unexpected EOF`},
		{"not an object", `[1, 2]`, `want a JSON object {"kind": "users", "stages": [...]}`},
		{"null", `null`, `want a JSON object {"kind": "users", "stages": [...]}`},
		{"trailing data", users(ok) + ` {}`, `unexpected data after the JSON object`},
		{"too large", huge, `larger than 1048576 bytes (1 MiB)`},
		{"unknown field", `{"kind": "users", "stage": []}`, `unknown field "stage" (want kind, stages, start_rate)`},
		{"keys are case-sensitive", `{"Kind": "users", "stages": [` + ok + `]}`, `unknown field "Kind" (want kind, stages, start_rate)`},
		{"kind missing", `{"stages": [` + ok + `]}`, `kind: missing ("users" or "rate")`},
		{"kind not a string", `{"kind": 1, "stages": []}`, `kind: must be a string, "users" or "rate"`},
		{"kind null", `{"kind": null, "stages": []}`, `kind: must be a string, "users" or "rate"`},
		{"kind unknown", `{"kind": "vus", "stages": []}`, `kind: "vus" is not "users" or "rate"`},
		{"stages missing", `{"kind": "users"}`, `stages: missing`},
		{"stages not an array", `{"kind": "users", "stages": {}}`, `stages: must be an array of stages`},
		{"stages null", `{"kind": "users", "stages": null}`, `stages: must be an array of stages`},
		{"no stages", users(), `stages: need at least one stage`},
		{"too many stages", users(many), `stages: 1001 stages, at most 1000`},
		{"stage not an object", users(ok, `[]`), `stages[1]: want a JSON object`},
		{"stage unknown field", users(ok, ok, `{"duration": "1s", "users": 1, "spawn_rate": 1, "ramp": true}`), `stages[2]: unknown field "ramp" (want duration, users, spawn_rate)`},
		{"duration missing", users(`{"users": 1, "spawn_rate": 1}`), `stages[0].duration: missing`},
		{"duration not a duration", users(`{"duration": "soon", "users": 1, "spawn_rate": 1}`), `stages[0].duration: duration "soon": not a duration (e.g. 60s, 5m, 1h30m)`},
		{"duration NaN", users(`{"duration": "NaN", "users": 1, "spawn_rate": 1}`), `stages[0].duration: duration "NaN": not a duration (e.g. 60s, 5m, 1h30m)`},
		{"duration wrong type", users(`{"duration": true, "users": 1, "spawn_rate": 1}`), `stages[0].duration: must be a duration such as "60s" or a number of seconds`},
		{"duration zero", users(ok, `{"duration": 0, "users": 1, "spawn_rate": 1}`), `stages[1].duration: must be positive`},
		{"duration negative", users(`{"duration": "-1s", "users": 1, "spawn_rate": 1}`), `stages[0].duration: duration "-1s": must not be negative`},
		{"duration total too long", users(`{"duration": "2000000h", "users": 1, "spawn_rate": 1}`, `{"duration": "2000000h", "users": 1, "spawn_rate": 1}`), `stages[0].duration: the stages add up to more than 2777h46m40s`},
		{"users missing", users(`{"duration": "1s", "spawn_rate": 1}`), `stages[0].users: missing`},
		{"users negative", users(`{"duration": "1s", "users": -1, "spawn_rate": 1}`), `stages[0].users: must be a whole number from 0 to 1000000`},
		{"users fractional", users(`{"duration": "1s", "users": 1.5, "spawn_rate": 1}`), `stages[0].users: must be a whole number from 0 to 1000000`},
		{"users too many", users(`{"duration": "1s", "users": 1000001, "spawn_rate": 1}`), `stages[0].users: must be a whole number from 0 to 1000000`},
		{"users a string", users(`{"duration": "1s", "users": "10", "spawn_rate": 1}`), `stages[0].users: must be a number`},
		{"users null", users(`{"duration": "1s", "users": null, "spawn_rate": 1}`), `stages[0].users: must be a number, not null`},
		{"spawn_rate missing", users(`{"duration": "1s", "users": 1}`), `stages[0].spawn_rate: missing`},
		{"spawn_rate zero", users(ok, ok, `{"duration": "1s", "users": 1, "spawn_rate": 0}`), `stages[2].spawn_rate: must be positive`},
		{"spawn_rate negative", users(`{"duration": "1s", "users": 1, "spawn_rate": -2}`), `stages[0].spawn_rate: must be positive`},
		{"spawn_rate too high", users(`{"duration": "1s", "users": 1, "spawn_rate": 1e7}`), `stages[0].spawn_rate: must be at most 1e+06`},
		{"spawn_rate overflow", users(`{"duration": "1s", "users": 1, "spawn_rate": 1e999}`), `stages[0].spawn_rate: number out of range`},
		{"rate in a users stage", users(`{"duration": "1s", "users": 1, "spawn_rate": 1, "rate": 5}`), `stages[0].rate: not allowed in a "users" shape`},
		{"start_rate in a users shape", `{"kind": "users", "start_rate": 1, "stages": [` + ok + `]}`, `start_rate: not allowed in a "users" shape`},
		{"rate missing", rate(`{"duration": "1s"}`), `stages[0].rate: missing`},
		{"rate negative", rate(okRate, `{"duration": "1s", "rate": -1}`), `stages[1].rate: must be from 0 to 1e+06`},
		{"rate too high", rate(`{"duration": "1s", "rate": 1000000.5}`), `stages[0].rate: must be from 0 to 1e+06`},
		{"rate overflow", rate(`{"duration": "1s", "rate": -1e400}`), `stages[0].rate: number out of range`},
		{"rate a string", rate(`{"duration": "1s", "rate": "5"}`), `stages[0].rate: must be a number`},
		{"users in a rate stage", rate(`{"duration": "1s", "rate": 1, "users": 5}`), `stages[0].users: not allowed in a "rate" shape`},
		{"spawn_rate in a rate stage", rate(`{"duration": "1s", "rate": 1, "spawn_rate": 5}`), `stages[0].spawn_rate: not allowed in a "rate" shape`},
		{"start_rate negative", `{"kind": "rate", "start_rate": -1, "stages": [` + okRate + `]}`, `start_rate: must be from 0 to 1e+06`},
		{"start_rate null", `{"kind": "rate", "start_rate": null, "stages": [` + okRate + `]}`, `start_rate: must be a number, not null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse([]byte(tc.in))
			require.EqualError(t, err, "shape: "+tc.want)
			assert.Equal(t, Stages{}, s)
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := Stages{Kind: KindUsers, Stages: []Stage{{Duration: time.Second, Users: 1, SpawnRate: 1}}}
	require.NoError(t, good.Validate())
	for _, tc := range []struct {
		name string
		edit func(*Stages)
		want string
	}{
		{"no kind", func(s *Stages) { s.Kind = "" }, `kind: missing ("users" or "rate")`},
		{"no stages", func(s *Stages) { s.Stages = nil }, `stages: need at least one stage`},
		{"negative duration", func(s *Stages) { s.Stages[0].Duration = -time.Second }, `stages[0].duration: must be positive`},
		{"NaN spawn rate", func(s *Stages) { s.Stages[0].SpawnRate = nan() }, `stages[0].spawn_rate: must be positive`},
		{"rate set", func(s *Stages) { s.Stages[0].Rate = 1 }, `stages[0].rate: not allowed in a "users" shape`},
		{"users in rate", func(s *Stages) { s.Kind = KindRate }, `stages[0].users: not allowed in a "rate" shape`},
		{"NaN rate", func(s *Stages) { *s = Stages{Kind: KindRate, Stages: []Stage{{Duration: 1, Rate: nan()}}} }, `stages[0].rate: must be from 0 to 1e+06`},
		{"NaN start rate", func(s *Stages) { *s = Stages{Kind: KindRate, StartRate: nan(), Stages: []Stage{{Duration: 1}}} }, `start_rate: must be from 0 to 1e+06`},
	} {
		s := good
		s.Stages = append([]Stage(nil), good.Stages...)
		tc.edit(&s)
		assert.EqualError(t, s.Validate(), "shape: "+tc.want, tc.name)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "x.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"kind": "users", "stages": [
		{"duration": "60s", "users": 10, "spawn_rate": 1},
		{"duration": "60s", "users": 50, "spawn_rate": 2},
		{"duration": "60s", "users": 100, "spawn_rate": 0}]}`), 0o644))
	_, err := Load(bad)
	assert.EqualError(t, err, "shape "+bad+": stages[2].spawn_rate: must be positive")

	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, make([]byte, MaxFileSize+1), 0o644))
	_, err = Load(big)
	assert.EqualError(t, err, "shape "+big+": larger than 1048576 bytes (1 MiB)")

	missing := filepath.Join(dir, "none.json")
	_, err = Load(missing)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "shape "+missing+": "), err.Error())
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []Stages{
		{Kind: KindUsers, Stages: []Stage{{Duration: 1500 * time.Millisecond, Users: 0, SpawnRate: 0.25}, {Duration: time.Hour, Users: 7, SpawnRate: 3}}},
		{Kind: KindRate, StartRate: 2.5, Stages: []Stage{{Duration: time.Nanosecond, Rate: 1e6}, {Duration: 61 * time.Second, Rate: 0}}},
	} {
		data, err := json.Marshal(s)
		require.NoError(t, err)
		var back Stages
		require.NoError(t, json.Unmarshal(data, &back), string(data))
		assert.Equal(t, s, back, string(data))
	}
	data, err := json.Marshal(Stages{Kind: KindUsers, Stages: []Stage{{Duration: time.Minute, Users: 3, SpawnRate: 1}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"kind": "users", "stages": [{"duration": "60s", "users": 3, "spawn_rate": 1}]}`, string(data))

	// Inside another document, errors keep the field.
	var doc struct{ Shape Stages }
	err = json.Unmarshal([]byte(`{"Shape": {"kind": "rate", "stages": [{"duration": "1s", "rate": -1}]}}`), &doc)
	assert.ErrorContains(t, err, "shape: stages[0].rate: must be from 0 to 1e+06")
}

func nan() float64 { var zero float64; return zero / zero }

func ExampleParse() {
	s, err := Parse([]byte(`{"kind": "rate", "stages": [{"duration": "30s", "rate": 50}, {"duration": "1m", "rate": 200}]}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	fmt.Println(s.ArrivalsBy(s.Total()))
	// Output:
	// rate: 30s→50/s, 60s→200/s (1m30s)
	// 8250
}
