package shape

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ramp() Stages {
	return Stages{Kind: KindUsers, Stages: []Stage{
		{Duration: 60 * time.Second, Users: 10, SpawnRate: 1},
		{Duration: 60 * time.Second, Users: 50, SpawnRate: 2},
		{Duration: 60 * time.Second, Users: 100, SpawnRate: 5},
	}}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestTickUsersStageBoundaries(t *testing.T) {
	t.Parallel()
	s := ramp()
	var sh Shape = s
	for _, tc := range []struct {
		at   time.Duration
		want Step
		ok   bool
	}{
		{-time.Second, Step{Users: 10, SpawnRate: 1}, true},
		{0, Step{Users: 10, SpawnRate: 1}, true},
		{ms(59_900), Step{Users: 10, SpawnRate: 1}, true},
		{60*time.Second - 1, Step{Users: 10, SpawnRate: 1}, true},
		{60 * time.Second, Step{Users: 50, SpawnRate: 2}, true},
		{ms(119_999), Step{Users: 50, SpawnRate: 2}, true},
		{120 * time.Second, Step{Users: 100, SpawnRate: 5}, true},
		{180*time.Second - 1, Step{Users: 100, SpawnRate: 5}, true},
		{180 * time.Second, Step{}, false},
		{time.Hour, Step{}, false},
	} {
		got, ok := sh.Tick(tc.at)
		assert.Equal(t, tc.ok, ok, "at %v", tc.at)
		assert.Equal(t, tc.want, got, "at %v", tc.at)
	}
	// A users shape has no arrival rate.
	assert.Zero(t, s.RateAt(time.Second))
	assert.Zero(t, s.ArrivalsBy(time.Minute))
	_, ok := s.ArrivalTime(0)
	assert.False(t, ok)
}

func TestTickRate(t *testing.T) {
	t.Parallel()
	s, err := Load("../../fixtures/shapes/arrival.json")
	require.NoError(t, err)
	for _, tc := range []struct {
		at   time.Duration
		rate float64
		ok   bool
	}{
		{0, 0, true}, {15 * time.Second, 10, true}, {30 * time.Second, 20, true}, {60 * time.Second, 20, true},
		{105 * time.Second, 10, true}, {120*time.Second - time.Millisecond, 20.0 / 30_000, true}, {120 * time.Second, 0, false},
	} {
		got, ok := s.Tick(tc.at)
		assert.Equal(t, tc.ok, ok, "at %v", tc.at)
		assert.InDelta(t, tc.rate, got.Rate, 1e-9, "at %v", tc.at)
		assert.Zero(t, got.Users)
		assert.Zero(t, got.SpawnRate)
	}
	var empty Stages
	_, ok := empty.Tick(0)
	assert.False(t, ok)
	f := Func(func(e time.Duration) (Step, bool) { return Step{Users: int(e / time.Second)}, e < time.Minute })
	got, ok := Shape(f).Tick(3 * time.Second)
	assert.True(t, ok)
	assert.Equal(t, Step{Users: 3}, got)
}

func TestScale(t *testing.T) {
	t.Parallel()
	s := ramp()
	short := s.Scale(0.05, 0.1)
	assert.Equal(t, Stages{Kind: KindUsers, Stages: []Stage{
		{Duration: 3 * time.Second, Users: 1, SpawnRate: 2},
		{Duration: 3 * time.Second, Users: 5, SpawnRate: 4},
		{Duration: 3 * time.Second, Users: 10, SpawnRate: 10},
	}}, roundRates(short))
	assert.Equal(t, ramp(), s, "Scale must not change its receiver")
	require.NoError(t, short.Validate())
	// Each stage still reaches its users in the same fraction of its length.
	for i, st := range short.Stages {
		orig := s.Stages[i]
		assert.InDelta(t, float64(orig.Users)/orig.SpawnRate/orig.Duration.Seconds(),
			float64(st.Users)/st.SpawnRate/st.Duration.Seconds(), 1e-9, "stage %d", i)
	}

	// Durations stay at least 100 ms; users round up, to at least 1 when > 0.
	odd := Stages{Kind: KindUsers, Stages: []Stage{
		{Duration: time.Second, Users: 100, SpawnRate: 1},
		{Duration: time.Second, Users: 3, SpawnRate: 1},
		{Duration: time.Second, Users: 1, SpawnRate: 1},
		{Duration: time.Second, Users: 0, SpawnRate: 1},
	}}
	got := odd.Scale(0.01, 0.07)
	assert.Equal(t, []int{7, 1, 1, 0}, []int{got.Stages[0].Users, got.Stages[1].Users, got.Stages[2].Users, got.Stages[3].Users})
	for _, st := range got.Stages {
		assert.Equal(t, 100*time.Millisecond, st.Duration)
	}
	assert.Equal(t, 2, odd.Scale(1, 0.5).Stages[1].Users) // 1.5 rounds up

	r := Stages{Kind: KindRate, StartRate: 10, Stages: []Stage{{Duration: time.Minute, Rate: 200}, {Duration: 30 * time.Second, Rate: 0}}}
	assert.Equal(t, Stages{Kind: KindRate, StartRate: 5, Stages: []Stage{{Duration: 6 * time.Second, Rate: 100}, {Duration: 3 * time.Second, Rate: 0}}}, r.Scale(0.1, 0.5))

	for _, f := range [][2]float64{{0, 1}, {1, -1}, {math.NaN(), 1}, {1, math.Inf(1)}} {
		assert.Panics(t, func() { s.Scale(f[0], f[1]) }, "%v", f)
	}
}

// roundRates rounds spawn rates to 1e-9, past float error of the factors.
func roundRates(s Stages) Stages {
	for i := range s.Stages {
		s.Stages[i].SpawnRate = math.Round(s.Stages[i].SpawnRate*1e9) / 1e9
	}
	return s
}

func TestString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "users: 60s→10 users @1/s, 60s→50 @2/s, 60s→100 @5/s (3m0s)", ramp().String())
	assert.Equal(t, "rate: 30s→20/s, 60s→20/s, 30s→0/s (2m0s)", Stages{Kind: KindRate, Stages: []Stage{
		{Duration: 30 * time.Second, Rate: 20}, {Duration: time.Minute, Rate: 20}, {Duration: 30 * time.Second}}}.String())
	assert.Equal(t, "rate from 2.5/s: 1.5s→0.25/s (1.5s)", Stages{Kind: KindRate, StartRate: 2.5, Stages: []Stage{
		{Duration: 1500 * time.Millisecond, Rate: 0.25}}}.String())
	assert.Equal(t, "users: no stages", Stages{Kind: KindUsers}.String())
}

func at(t *testing.T, s Stages, k float64) time.Duration {
	t.Helper()
	d, ok := s.ArrivalTime(k)
	require.True(t, ok, "ArrivalTime(%v)", k)
	return d
}

func TestArrivalsConstant(t *testing.T) {
	t.Parallel()
	s := Stages{Kind: KindRate, StartRate: 10, Stages: []Stage{{Duration: 10 * time.Second, Rate: 10}}}
	assert.Equal(t, 100.0, s.ArrivalsBy(10*time.Second))
	assert.Equal(t, 100.0, s.ArrivalsBy(time.Hour))
	assert.Equal(t, 50.0, s.ArrivalsBy(5*time.Second))
	assert.Equal(t, 0.0, s.ArrivalsBy(-time.Second))
	assert.Equal(t, 10.0, s.RateAt(0))
	assert.Equal(t, 10.0, s.RateAt(7*time.Second))
	assert.Equal(t, 0.0, s.RateAt(10*time.Second))
	assert.Equal(t, 0*time.Second, at(t, s, 0))
	assert.Equal(t, 100*time.Millisecond, at(t, s, 1))
	assert.Equal(t, 5*time.Second, at(t, s, 50))
	assert.Equal(t, 10*time.Second, at(t, s, 100))
	// A ramp that is all but a hold is solved without cancellation.
	near := Stages{Kind: KindRate, StartRate: 100, Stages: []Stage{{Duration: 100 * time.Second, Rate: 100 + 1e-7}}}
	// 100τ + 1e-7·τ²/200 = 5000: τ = 50 s − 12.5 ns (to 1e-17 s).
	assert.InDelta(t, float64(50*time.Second)-12.5, float64(at(t, near, 5000)), 1)
	for _, k := range []float64{100.000001, math.Inf(1), -1, math.NaN()} {
		_, ok := s.ArrivalTime(k)
		assert.False(t, ok, "ArrivalTime(%v)", k)
	}
}

func TestArrivalsRampUp(t *testing.T) {
	t.Parallel()
	s := Stages{Kind: KindRate, Stages: []Stage{{Duration: 10 * time.Second, Rate: 100}}}
	assert.Equal(t, 500.0, s.ArrivalsBy(10*time.Second))
	assert.Equal(t, 125.0, s.ArrivalsBy(5*time.Second))
	assert.Equal(t, 50.0, s.RateAt(5*time.Second))
	assert.Equal(t, 0.0, s.RateAt(0))
	assert.Equal(t, 5*time.Second, at(t, s, 125))
	assert.Equal(t, 10*time.Second, at(t, s, 500))
	assert.Equal(t, time.Second, at(t, s, 5)) // 5t² = 5
	_, ok := s.ArrivalTime(500.5)
	assert.False(t, ok)
}

func TestArrivalsRampDown(t *testing.T) {
	t.Parallel()
	s := Stages{Kind: KindRate, Stages: []Stage{{Duration: 10 * time.Second, Rate: 100}, {Duration: 10 * time.Second, Rate: 0}}}
	assert.Equal(t, 1000.0, s.ArrivalsBy(20*time.Second))
	assert.Equal(t, 875.0, s.ArrivalsBy(15*time.Second)) // 500 + 100·5 − 5·5²
	assert.Equal(t, 50.0, s.RateAt(15*time.Second))
	assert.Equal(t, 15*time.Second, at(t, s, 875))
	assert.Equal(t, 20*time.Second, at(t, s, 1000))
	assert.Equal(t, 10*time.Second, at(t, s, 500))
	assert.Equal(t, 11*time.Second, at(t, s, 595)) // 500 + 100 − 5
}

func TestArrivalsSkipPause(t *testing.T) {
	t.Parallel()
	// 0–5 s pause, 5–15 s ramp 0→20 (100), 15–25 s hold 20 (200), 25–27 s ramp 20→0
	// (20), 27–37 s pause, 37–47 s ramp 0→10 (50).
	s := Stages{Kind: KindRate, Stages: []Stage{
		{Duration: 5 * time.Second, Rate: 0},
		{Duration: 10 * time.Second, Rate: 20},
		{Duration: 10 * time.Second, Rate: 20},
		{Duration: 2 * time.Second, Rate: 0},
		{Duration: 10 * time.Second, Rate: 0},
		{Duration: 10 * time.Second, Rate: 10},
	}}
	require.NoError(t, s.Validate())
	assert.Equal(t, 370.0, s.ArrivalsBy(s.Total()))
	assert.Equal(t, 320.0, s.ArrivalsBy(30*time.Second))
	assert.Equal(t, 0.0, s.ArrivalsBy(5*time.Second))
	assert.Equal(t, 0*time.Second, at(t, s, 0))
	assert.Equal(t, 10*time.Second, at(t, s, 25)) // t'² = 25 after 5 s
	assert.Greater(t, at(t, s, 1e-9), 5*time.Second)
	assert.Equal(t, 27*time.Second, at(t, s, 320)) // the last before the pause, at its start
	assert.Equal(t, 38*time.Second, at(t, s, 320.5))
	assert.Equal(t, 37*time.Second+time.Duration(math.Round(math.Sqrt(50)*1e9)), at(t, s, 345))
	assert.Greater(t, at(t, s, 320+1e-9), 37*time.Second)
	assert.Equal(t, 47*time.Second, at(t, s, 370))

	// No arrival falls inside a pause.
	for k := 0.0; k <= 370; k++ {
		d := at(t, s, k)
		inPause := (d > 0 && d < 5*time.Second) || (d > 27*time.Second && d < 37*time.Second)
		assert.False(t, inPause, "arrival %v at %v", k, d)
	}

	zero := Stages{Kind: KindRate, Stages: []Stage{{Duration: time.Minute}}}
	assert.Equal(t, time.Duration(0), at(t, zero, 0))
	_, ok := zero.ArrivalTime(1)
	assert.False(t, ok)
}

// randomRate builds a valid rate shape of random stages: ramps, holds and pauses.
func randomRate(r *rand.Rand) Stages {
	s := Stages{Kind: KindRate}
	if r.IntN(3) == 0 {
		s.StartRate = r.Float64() * 100
	}
	prev := s.StartRate
	for range 1 + r.IntN(8) {
		st := Stage{Duration: time.Duration(1 + r.Int64N(int64(120*time.Second)))}
		switch r.IntN(5) {
		case 0:
			st.Rate = 0 // ramp down to, or hold, a pause
		case 1:
			st.Rate = prev // hold
		case 2:
			st.Rate = prev * (1 + r.Float64()*1e-9) // all but a hold
		default:
			st.Rate = r.Float64() * 500
		}
		prev = st.Rate
		s.Stages = append(s.Stages, st)
	}
	return s
}

func TestArrivalsProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		s := randomRate(r)
		require.NoError(t, s.Validate())
		total := s.ArrivalsBy(s.Total())
		got, ok := s.ArrivalTime(total)
		require.True(t, ok, "%v: ArrivalTime(ArrivalsBy(Total))", s)
		assert.LessOrEqual(t, got, s.Total())
		_, ok = s.ArrivalTime(total*(1+1e-9) + 1e-9)
		assert.False(t, ok, "%v: beyond the end", s)

		for range 200 {
			tt := time.Duration(r.Int64N(int64(s.Total()) + 1))
			k := s.ArrivalsBy(tt)
			back := at(t, s, k)
			// Where the rate is positive the inverse is exact (to the nanosecond);
			// where it is 0 (a pause) the earliest time with k arrivals is taken.
			if s.RateAt(tt) > 0.01 {
				assert.InDelta(t, tt, back, float64(20*time.Nanosecond), "%v: ArrivalTime(ArrivalsBy(%v))", s, tt)
			} else {
				assert.LessOrEqual(t, back, tt+20*time.Nanosecond, "%v at %v", s, tt)
			}
			assert.InDelta(t, k, s.ArrivalsBy(back), 1e-6*max(1, k), "%v: ArrivalsBy(ArrivalTime(%v))", s, k)
		}

		// ArrivalsBy integrates RateAt: over a part of one stage, where the rate is
		// linear, the trapezoid is exact.
		var start time.Duration
		for _, st := range s.Stages {
			a := start + time.Duration(r.Int64N(int64(st.Duration)))
			b := a + time.Duration(r.Int64N(int64(start+st.Duration-a)))
			want := (s.RateAt(a) + s.RateAt(b)) / 2 * (b - a).Seconds()
			assert.InDelta(t, want, s.ArrivalsBy(b)-s.ArrivalsBy(a), 1e-6*max(1, s.ArrivalsBy(b)), "%v: [%v, %v]", s, a, b)
			start += st.Duration
		}

		// Arrival times never go back.
		var last time.Duration
		for i := range 500 {
			d := at(t, s, min(total, total*float64(i)/499))
			require.GreaterOrEqual(t, d, last, "%v: arrival %d", s, i)
			last = d
		}
	}
}
