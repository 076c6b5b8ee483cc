package shape

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xagent/perfharness/internal/scenario"
)

// Load reads and validates the JSON shape file at path (see the package doc).
// Errors start with "shape <path>: ".
func Load(path string) (Stages, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stages{}, fmt.Errorf("shape %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Stages{}, fmt.Errorf("shape %s: %w", path, err)
	}
	s, err := parse(data)
	if err != nil {
		return Stages{}, fmt.Errorf("shape %s: %w", path, err)
	}
	return s, nil
}

// Parse reads and validates a JSON shape (see the package doc). Errors start
// with "shape: ".
func Parse(data []byte) (Stages, error) {
	s, err := parse(data)
	if err != nil {
		return Stages{}, fmt.Errorf("shape: %w", err)
	}
	return s, nil
}

// UnmarshalJSON reads s as Parse does, for a shape inside another JSON document.
func (s *Stages) UnmarshalJSON(data []byte) error {
	v, err := Parse(data)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalJSON writes s in the form Parse reads.
func (s Stages) MarshalJSON() ([]byte, error) {
	type usersStage struct {
		Duration  string  `json:"duration"`
		Users     int     `json:"users"`
		SpawnRate float64 `json:"spawn_rate"`
	}
	type rateStage struct {
		Duration string  `json:"duration"`
		Rate     float64 `json:"rate"`
	}
	out := struct {
		Kind      string   `json:"kind"`
		StartRate *float64 `json:"start_rate,omitempty"`
		Stages    []any    `json:"stages"`
	}{Kind: s.Kind, Stages: make([]any, len(s.Stages))}
	if s.StartRate != 0 {
		out.StartRate = &s.StartRate
	}
	for i, st := range s.Stages {
		if s.Kind == KindRate {
			out.Stages[i] = rateStage{formatDuration(st.Duration), st.Rate}
		} else {
			out.Stages[i] = usersStage{formatDuration(st.Duration), st.Users, st.SpawnRate}
		}
	}
	return json.Marshal(out)
}

var (
	topKeys   = []string{"kind", "stages", "start_rate"}
	usersKeys = []string{"duration", "users", "spawn_rate"}
	rateKeys  = []string{"duration", "rate"}
)

// parse decodes keys exactly (encoding/json matches struct fields ignoring case,
// which would let "Users" through) and reports errors by stage and field.
func parse(data []byte) (Stages, error) {
	if len(data) > MaxFileSize {
		return Stages{}, fmt.Errorf("larger than %d bytes (1 MiB)", MaxFileSize)
	}
	top, err := object(data, `{"kind": "users", "stages": [...]}`)
	if err != nil {
		return Stages{}, err
	}
	if err := knownKeys(top, topKeys, nil, ""); err != nil {
		return Stages{}, err
	}
	var s Stages
	raw, ok := top["kind"]
	if !ok {
		return Stages{}, fmt.Errorf("kind: missing (%q or %q)", KindUsers, KindRate)
	}
	if err := json.Unmarshal(raw, &s.Kind); err != nil || isNull(raw) {
		return Stages{}, fmt.Errorf("kind: must be a string, %q or %q", KindUsers, KindRate)
	}
	if s.Kind != KindUsers && s.Kind != KindRate {
		return Stages{}, fmt.Errorf("kind: %q is not %q or %q", s.Kind, KindUsers, KindRate)
	}
	if raw, ok := top["start_rate"]; ok {
		if s.Kind != KindRate {
			return Stages{}, fmt.Errorf("start_rate: %s", notAllowed(s.Kind))
		}
		if s.StartRate, err = number(raw); err != nil {
			return Stages{}, fmt.Errorf("start_rate: %w", err)
		}
	}
	var list []json.RawMessage
	raw, ok = top["stages"]
	if !ok {
		return Stages{}, errors.New("stages: missing")
	}
	if err := json.Unmarshal(raw, &list); err != nil || isNull(raw) {
		return Stages{}, errors.New("stages: must be an array of stages")
	}
	if len(list) > MaxStages {
		return Stages{}, fmt.Errorf("stages: %d stages, at most %d", len(list), MaxStages)
	}
	s.Stages = make([]Stage, len(list))
	for i, raw := range list {
		st, err := parseStage(raw, s.Kind)
		if err != nil {
			return Stages{}, fmt.Errorf("stages[%d]%w", i, err)
		}
		s.Stages[i] = st
	}
	if err := s.validate(); err != nil {
		return Stages{}, err
	}
	return s, nil
}

// parseStage decodes one stage; its errors start with ".field: " or ": ", after
// the stage's index.
func parseStage(raw json.RawMessage, kind string) (Stage, error) {
	var st Stage
	keys, other := usersKeys, rateKeys
	if kind == KindRate {
		keys, other = rateKeys, usersKeys
	}
	fields, err := object(raw, "")
	if err == nil {
		err = knownKeys(fields, keys, other, kind)
	}
	if err != nil {
		if strings.HasPrefix(err.Error(), ".") {
			return st, err
		}
		return st, fmt.Errorf(": %w", err)
	}
	for _, k := range keys {
		if _, ok := fields[k]; !ok {
			return st, fmt.Errorf(".%s: missing", k)
		}
	}
	if st.Duration, err = duration(fields["duration"]); err != nil {
		return st, fmt.Errorf(".duration: %w", err)
	}
	if kind == KindRate {
		if st.Rate, err = number(fields["rate"]); err != nil {
			return st, fmt.Errorf(".rate: %w", err)
		}
		return st, nil
	}
	users, err := number(fields["users"])
	if err == nil && (users != math.Trunc(users) || !inRange(users, 0, MaxUsers)) {
		err = errors.New(usersRangeMsg)
	}
	if err != nil {
		return st, fmt.Errorf(".users: %w", err)
	}
	st.Users = int(users)
	if st.SpawnRate, err = number(fields["spawn_rate"]); err != nil {
		return st, fmt.Errorf(".spawn_rate: %w", err)
	}
	return st, nil
}

// object decodes one JSON object and checks that nothing follows it.
func object(data []byte, example string) (map[string]json.RawMessage, error) {
	want := "want a JSON object"
	if example != "" {
		want += " " + example
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty: " + want)
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New(want)
	}
	return m, nil
}

// knownKeys reports a key of m not in keys: as ".key: not allowed" when it is a
// key of the other kind (other), else as an unknown field. Keys are checked in
// sorted order, so the error does not depend on map order.
func knownKeys(m map[string]json.RawMessage, keys, other []string, kind string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch {
		case slices.Contains(keys, k):
		case slices.Contains(other, k):
			return fmt.Errorf(".%s: %s", k, notAllowed(kind))
		default:
			return fmt.Errorf("unknown field %q (want %s)", k, strings.Join(keys, ", "))
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// number decodes a JSON number; range checks are Validate's.
func number(raw json.RawMessage) (float64, error) {
	if isNull(raw) {
		return 0, errors.New("must be a number, not null")
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.HasPrefix(te.Value, "number") {
			return 0, errors.New("number out of range")
		}
		return 0, errors.New("must be a number")
	}
	return f, nil
}

// duration decodes "60s", "1m30s", "1.5s", "60" or 60 by scenario.ParseTimespan.
func duration(raw json.RawMessage) (time.Duration, error) {
	var text string
	switch raw = bytes.TrimSpace(raw); {
	case len(raw) > 0 && raw[0] == '"':
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, errors.New(`must be a duration such as "60s" or a number of seconds`)
		}
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		text = string(raw)
	default:
		return 0, errors.New(`must be a duration such as "60s" or a number of seconds`)
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil && math.IsNaN(f) {
		return 0, fmt.Errorf("duration %q: not a duration (e.g. 60s, 5m, 1h30m)", text)
	}
	d, err := scenario.ParseTimespan(text)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}
