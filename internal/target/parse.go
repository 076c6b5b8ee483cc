package target

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
)

// Load reads and parses a target table file; errors name the file.
func Load(path string) (Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Table{}, fmt.Errorf("load target table: %w", err)
	}
	return Parse(data, path)
}

// LoadOrDefault reads the table at path. When path is the shipped table's
// (shipped) and it does not exist, as for a prebuilt binary run outside the
// repository, it returns Default, the built-in copy of the same table, and
// builtIn true.
func LoadOrDefault(path, shipped string) (t Table, builtIn bool, err error) {
	t, err = Load(path)
	if err != nil && path == shipped && errors.Is(err, fs.ErrNotExist) {
		return Default(), true, nil
	}
	return t, false, err
}

// Parse parses a target table strictly (see the package doc); source names
// the data in errors, which read "source:line:column: field.path: problem".
func Parse(data []byte, source string) (Table, error) {
	// Check the syntax first: the decoder's token errors carry unreliable offsets.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Table{}, fmt.Errorf("%s:%s: invalid JSON: %v", source, lineCol(data, se.Offset-1), se)
		}
		return Table{}, fmt.Errorf("%s: invalid JSON: %w", source, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &parser{dec: dec, data: data, source: source}
	t, err := p.table()
	if err != nil {
		return Table{}, err
	}
	return t, nil
}

// parser walks the tokens of syntactically valid JSON, so every error can
// name its field path and position.
type parser struct {
	dec    *json.Decoder
	data   []byte
	source string
}

// errorf formats an error at byte offset off for the field path.
func (p *parser) errorf(off int64, path, format string, args ...any) error {
	if path == "" {
		path = "top level"
	}
	return fmt.Errorf("%s:%s: %s: %s", p.source, lineCol(p.data, off), path, fmt.Sprintf(format, args...))
}

// next returns the offset where the next token starts.
func (p *parser) next() int64 {
	off := p.dec.InputOffset()
	for off < int64(len(p.data)) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

// token reads the next token and its start offset.
func (p *parser) token() (json.Token, int64, error) {
	off := p.next()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, off, fmt.Errorf("%s:%s: invalid JSON: %w", p.source, lineCol(p.data, off), err)
	}
	return tok, off, nil
}

// object reads a JSON object at path, calling field for each key with the
// key's path; it rejects duplicate keys and returns the object's offset.
func (p *parser) object(path string, field func(key, keyPath string, keyOff int64) error) (int64, error) {
	tok, off, err := p.token()
	if err != nil {
		return off, err
	}
	if tok != json.Delim('{') {
		return off, p.errorf(off, path, "expected an object, got %s", describe(tok))
	}
	seen := map[string]bool{}
	for p.dec.More() {
		tok, koff, err := p.token()
		if err != nil {
			return off, err
		}
		key, _ := tok.(string) // object keys are always strings in valid JSON
		kp := joinPath(path, key)
		if seen[key] {
			return off, p.errorf(koff, kp, "duplicate field")
		}
		seen[key] = true
		if err := field(key, kp, koff); err != nil {
			return off, err
		}
	}
	if _, _, err := p.token(); err != nil { // the closing brace
		return off, err
	}
	return off, nil
}

// number reads a non-negative finite number at path.
func (p *parser) number(path string) (float64, int64, error) {
	tok, off, err := p.token()
	if err != nil {
		return 0, off, err
	}
	n, ok := tok.(json.Number)
	if !ok {
		return 0, off, p.errorf(off, path, "expected a number, got %s", describe(tok))
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, off, p.errorf(off, path, "number %s is out of range", n)
	}
	if v < 0 {
		return 0, off, p.errorf(off, path, "%s is negative; values must be >= 0", n)
	}
	return v, off, nil
}

// table reads the top-level object.
func (p *parser) table() (Table, error) {
	t := Table{Metrics: map[string]Bounds{}, Endpoints: map[string]map[string]Bounds{}}
	hasMetrics := false
	off, err := p.object("", func(key, kp string, koff int64) error {
		switch key {
		case "metrics":
			hasMetrics = true
			return p.metrics(kp, t.Metrics, false)
		case "alerts":
			return p.alerts(kp, &t.Alerts)
		case "endpoints":
			return p.endpoints(kp, t.Endpoints)
		}
		return p.errorf(koff, kp, "unknown field (want metrics, alerts or endpoints)")
	})
	if err != nil {
		return Table{}, err
	}
	if !hasMetrics || len(t.Metrics) == 0 {
		return Table{}, p.errorf(off, "metrics", "missing: the table needs bounds for at least one metric")
	}
	return t, nil
}

// metrics reads a metric name → bounds object into dst.
func (p *parser) metrics(path string, dst map[string]Bounds, override bool) error {
	off, err := p.object(path, func(key, kp string, koff int64) error {
		d, ok := lookupMetric(key)
		if !ok {
			return p.errorf(koff, kp, "unknown metric %q (supported: %s)", key, strings.Join(MetricNames(), ", "))
		}
		b, err := p.bounds(kp, d)
		if err != nil {
			return err
		}
		dst[key] = b
		return nil
	})
	if err != nil {
		return err
	}
	if override && len(dst) == 0 {
		return p.errorf(off, path, "empty override: name at least one metric")
	}
	return nil
}

// bounds reads one metric's target/acceptable/poor and checks their order.
func (p *parser) bounds(path string, d metricDef) (Bounds, error) {
	var b Bounds
	var offs [3]int64
	var have [3]bool
	fields := [3]*float64{&b.Target, &b.Acceptable, &b.Poor}
	names := [3]string{"target", "acceptable", "poor"}
	off, err := p.object(path, func(key, kp string, koff int64) error {
		for i, name := range names {
			if key != name {
				continue
			}
			v, voff, err := p.number(kp)
			if err != nil {
				return err
			}
			if d.max > 0 && v > d.max {
				return p.errorf(voff, kp, "%s is above %s%s", fmtNum(v), fmtNum(d.max), d.unit)
			}
			*fields[i], offs[i], have[i] = v, voff, true
			return nil
		}
		return p.errorf(koff, kp, "unknown field (want target, acceptable and poor)")
	})
	if err != nil {
		return Bounds{}, err
	}
	for i, name := range names {
		if !have[i] {
			return Bounds{}, p.errorf(off, path, "missing %s (want target, acceptable and poor)", name)
		}
	}
	order, rel, word := "target <= acceptable <= poor", "below", "lower"
	bad := func(a, b float64) bool { return b < a }
	if d.higherBetter {
		order, rel, word = "target >= acceptable >= poor", "above", "higher"
		bad = func(a, b float64) bool { return b > a }
	}
	for i := 1; i < 3; i++ {
		if bad(*fields[i-1], *fields[i]) {
			return Bounds{}, p.errorf(offs[i], joinPath(path, names[i]),
				"%s %s is %s %s %s; %s is better for %s, so %s",
				names[i], fmtNum(*fields[i]), rel, names[i-1], fmtNum(*fields[i-1]), word, d.name, order)
		}
	}
	return b, nil
}

// alerts reads the alerts object.
func (p *parser) alerts(path string, a *Alerts) error {
	_, err := p.object(path, func(key, kp string, koff int64) error {
		switch key {
		case "max_failure_rate_pct":
			v, voff, err := p.number(kp)
			if err != nil {
				return err
			}
			if v > 100 {
				return p.errorf(voff, kp, "%s is above 100%%", fmtNum(v))
			}
			a.MaxFailureRatePct = v
			return nil
		case "max_avg_ms":
			v, _, err := p.number(kp)
			a.MaxAvgMS = v
			return err
		}
		return p.errorf(koff, kp, "unknown field (want max_failure_rate_pct or max_avg_ms)")
	})
	return err
}

// endpoints reads the per-endpoint overrides.
func (p *parser) endpoints(path string, dst map[string]map[string]Bounds) error {
	_, err := p.object(path, func(key, kp string, koff int64) error {
		if problem := checkEndpointName(key); problem != "" {
			return p.errorf(koff, kp, "endpoint name %s", problem)
		}
		m := map[string]Bounds{}
		if err := p.metrics(kp, m, true); err != nil {
			return err
		}
		dst[key] = m
		return nil
	})
	return err
}

// checkEndpointName checks the stats entry form "METHOD name" and says what is wrong.
func checkEndpointName(s string) string {
	method, name, ok := strings.Cut(s, " ")
	if !ok || method == "" {
		return `must be "METHOD name", e.g. "GET /status"`
	}
	for _, r := range method {
		if r < 'A' || r > 'Z' {
			return fmt.Sprintf("method %q must be upper-case letters, e.g. \"GET /status\"", method)
		}
	}
	if name == "" || strings.TrimSpace(name) != name {
		return fmt.Sprintf("needs a name after %q without surrounding spaces, e.g. \"GET /status\"", method+" ")
	}
	return ""
}

// joinPath appends key to a field path, quoting keys that are not identifiers.
func joinPath(path, key string) string {
	ident := key != ""
	for _, r := range key {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			ident = false
			break
		}
	}
	switch {
	case !ident:
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	}
	return path + "." + key
}

// describe names a JSON token's type and value for a wrong-type error.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "string " + strconv.Quote(v)
	case json.Number:
		return "number " + string(v)
	case bool:
		return fmt.Sprintf("boolean %t", v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// lineCol renders a byte offset as 1-based "line:column" (column in bytes).
func lineCol(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int64(len(before) - bytes.LastIndexByte(before, '\n')) // LastIndexByte is -1 on line 1
	return fmt.Sprintf("%d:%d", line, col)
}
