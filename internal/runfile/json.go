package runfile

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/xagent/perfharness/internal/stats"
	"github.com/xagent/perfharness/internal/target"
)

// The run file is the run's own types, encoded by their json tags with
// encoding/json/v2's semantics (github.com/go-json-experiment/json until the
// standard library's is no longer an experiment). The functions below are
// registered once for every value of their Go type, wherever it appears in a
// Run, for the values JSON cannot hold as Go does.

var (
	encodeOptions = json.JoinOptions(
		jsontext.WithIndent("  "),
		jsontext.EscapeForJS(true),      // \u2028 and \u2029 escaped, as encoding/json does
		jsontext.AllowInvalidUTF8(true), // a string that is not UTF-8 is written with U+FFFD
		json.Deterministic(true),        // map keys sorted
		json.WithMarshalers(json.JoinMarshalers(
			json.MarshalToFunc(marshalFloat),
			json.MarshalToFunc(marshalDuration),
			json.MarshalToFunc(marshalTime),
			json.MarshalToFunc(marshalHist),
			json.MarshalToFunc(marshalGrade),
			json.MarshalToFunc(marshalEntry),
			json.MarshalToFunc(marshalMeta),
		)),
	)
	decodeOptions = json.JoinOptions(
		json.MatchCaseInsensitiveNames(true), jsonv1.MatchCaseSensitiveDelimiter(true), // keys match as encoding/json matches them
		jsontext.AllowDuplicateNames(true), // the last one wins
		jsontext.AllowInvalidUTF8(true),    // read as U+FFFD
		json.WithUnmarshalers(json.JoinUnmarshalers(
			json.UnmarshalFromFunc(unmarshalFloat),
			json.UnmarshalFromFunc(unmarshalDuration),
			json.UnmarshalFromFunc(unmarshalTime),
			json.UnmarshalFromFunc(unmarshalHist),
			json.UnmarshalFromFunc(unmarshalGrade),
			json.UnmarshalFromFunc(unmarshalRecent),
		)),
	)
)

// ---- Floats: the one NaN rule ----

// marshalFloat writes every float64 of a run: NaN and ±Inf, which JSON has no
// numbers for, as null. unmarshalFloat reads null back as NaN. (A server
// quantile's upper edge, +Inf for the unbounded bucket, is restored by check.)
func marshalFloat(enc *jsontext.Encoder, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return enc.WriteToken(jsontext.Null)
	}
	return enc.WriteToken(jsontext.Float(f))
}

func unmarshalFloat(dec *jsontext.Decoder, f *float64) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch v.Kind() {
	case 'n':
		*f = math.NaN()
		return nil
	case '0':
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil { // out of float64's range
			return &typeError{got: kindName('0', v), want: "a number or null"}
		}
		*f = x
		return nil
	}
	return &typeError{got: kindName(v.Kind(), v), want: "a number or null"}
}

// unmarshalRecent reads a point's recent_ms, which must hold one value per percentile.
func unmarshalRecent(dec *jsontext.Decoder, r *[stats.NumPercentiles]float64) error {
	n := 0
	switch dec.PeekKind() {
	case 'n':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		for dec.PeekKind() != ']' {
			var err error
			if n < len(r) {
				err = unmarshalFloat(dec, &r[n])
			} else {
				err = dec.SkipValue()
			}
			if err != nil {
				return err
			}
			n++
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	default:
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		return &typeError{got: kindName(v.Kind(), v), want: "an array of numbers"}
	}
	if n != len(r) {
		return problemf("", "%d values, want %d (one per percentile %v)", n, stats.NumPercentiles, stats.Percentiles)
	}
	return nil
}

// ---- Durations: seconds ----

// marshalDuration writes a time.Duration (keys ending in _s) as an exact
// decimal number of seconds: nanosecond precision, e.g. 90.5 or 0.000000001.
func marshalDuration(enc *jsontext.Encoder, d time.Duration) error {
	return enc.WriteValue(formatSeconds(d))
}

func unmarshalDuration(dec *jsontext.Decoder, d *time.Duration) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch v.Kind() {
	case 'n':
		*d = 0
		return nil
	case '0':
		var ok bool
		if *d, ok = parseSeconds(string(v)); !ok {
			return &typeError{got: kindName('0', v), want: "a number of seconds"}
		}
		return nil
	}
	return &typeError{got: kindName(v.Kind(), v), want: "a number of seconds"}
}

func formatSeconds(d time.Duration) []byte {
	var b []byte
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1e9, 10)
	if ns := u % 1e9; ns != 0 {
		frac := strconv.FormatUint(ns+1e9, 10)[1:] // 9 digits with leading zeros
		b = append(b, '.')
		b = append(b, strings.TrimRight(frac, "0")...)
	}
	return b
}

// parseSeconds reads a JSON number of seconds as nanoseconds: exactly for plain
// decimals with at most nine decimal places, rounded to the nearest nanosecond
// otherwise. ok is false past time.Duration's range.
func parseSeconds(s string) (time.Duration, bool) {
	neg := strings.HasPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !strings.ContainsAny(s, "eE") && (!hasFrac || len(frac) <= 9) && len(intPart) <= 11 {
		sec, err1 := strconv.ParseInt(intPart, 10, 64)
		var ns int64
		var err2 error
		if hasFrac {
			ns, err2 = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		if err1 == nil && err2 == nil && sec <= math.MaxInt64/int64(time.Second) {
			v := sec*1e9 + ns
			if v >= 0 { // no overflow
				if neg {
					v = -v
				}
				return time.Duration(v), true
			}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	ns := math.Round(f * 1e9)
	if err != nil || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, false
	}
	return time.Duration(ns), true
}

// ---- Times: RFC 3339 ----

// marshalTime writes a time.Time in RFC 3339 with nanoseconds and its own UTC
// offset, or in UTC when that offset has seconds, which RFC 3339 cannot
// express. Go's monotonic clock reading is not kept.
func marshalTime(enc *jsontext.Encoder, t time.Time) error {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return enc.WriteToken(jsontext.String(t.Format(time.RFC3339Nano)))
}

// unmarshalTime reads an RFC 3339 time; "" and null are the zero time.
func unmarshalTime(dec *jsontext.Decoder, t *time.Time) error {
	s, _, err := readString(dec, "an RFC 3339 time string")
	if err != nil || s == "" {
		*t = time.Time{}
		return err
	}
	if len(s) > 64 {
		return problemf("", "%d bytes is too long for an RFC 3339 time", len(s))
	}
	if *t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return problemf("", "%q is not an RFC 3339 time", s)
	}
	return nil
}

// readString reads a JSON string, or null (null is true).
func readString(dec *jsontext.Decoder, want string) (s string, null bool, err error) {
	switch dec.PeekKind() {
	case '"', 'n':
		tok, err := dec.ReadToken()
		if err != nil || tok.Kind() == 'n' {
			return "", true, err
		}
		return tok.String(), false, nil
	}
	v, err := dec.ReadValue()
	if err != nil {
		return "", false, err
	}
	return "", false, &typeError{got: kindName(v.Kind(), v), want: want}
}

// ---- Grades: by name ----

// marshalGrade writes a grade by name, and a check without one (a gate the
// target table cannot apply) as null.
func marshalGrade(enc *jsontext.Encoder, g target.Grade) error {
	if !g.Valid() {
		return enc.WriteToken(jsontext.Null)
	}
	return enc.WriteToken(jsontext.String(g.String()))
}

func unmarshalGrade(dec *jsontext.Decoder, g *target.Grade) error {
	s, null, err := readString(dec, "a grade name or null")
	if err != nil || null {
		*g = 0
		return err
	}
	if *g, err = target.ParseGrade(s); err != nil {
		return problemf("", "%q is not a grade: want \"Target\", \"Acceptable\", \"Needs investigation\", \"Poor\" or null", clip(s, 64))
	}
	return nil
}

// ---- Entries and histograms ----

var emptyHist = sync.OnceValue(stats.NewHistogram)

// marshalEntry writes an entry with a nil Service as having an empty
// histogram, and leaves response_hist out when it equals service_hist (no
// request started late): the recorder's Response is nil then, but Clone and
// Merge leave a copy.
func marshalEntry(enc *jsontext.Encoder, e stats.Entry) error {
	if e.Service == nil {
		e.Service = emptyHist()
	}
	if e.Response != nil && e.Service.Equals(e.Response) {
		e.Response = nil
	}
	type entry stats.Entry // the same keys, without this function
	return json.MarshalEncode(enc, entry(e))
}

// marshalHist writes a histogram as HdrHistogram's V2 compressed encoding in
// base64 (a nil one is null, left out or replaced by marshalEntry).
func marshalHist(enc *jsontext.Encoder, h *hdrhistogram.Histogram) error {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return err
	}
	return enc.WriteToken(jsontext.String(string(b)))
}

// unmarshalHist decodes a histogram after checking its size and header, so
// that only a histogram with the package stats geometry is ever allocated.
// "" and null are no histogram (check requires one where there are requests).
func unmarshalHist(dec *jsontext.Decoder, h **hdrhistogram.Histogram) error {
	s, _, err := readString(dec, "a base64 HdrHistogram string")
	if err != nil || s == "" {
		*h = nil
		return err
	}
	if len(s) > limits.histBytes {
		return problemf("", "%d bytes of base64, more than the %s limit for a histogram", len(s), byteSize(limits.histBytes))
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return problemf("", "not base64 (%v), want a V2 compressed HdrHistogram", err)
	}
	if err := checkHistHeader(raw); err != nil {
		return err
	}
	if *h, err = hdrhistogram.Decode([]byte(s)); err != nil {
		return problemf("", "corrupt histogram: %v", err)
	}
	return nil
}

// checkHistHeader reads the V2 compressed header: an 8-byte prefix (cookie,
// compressed length) then a zlib stream starting with 40 bytes: cookie,
// payload length, normalizing index offset, significant digits (int32 each),
// lowest and highest trackable value (int64 each), integer-to-double ratio
// (float64), all big-endian.
func checkHistHeader(raw []byte) error {
	if len(raw) < 8 {
		return problemf("", "histogram of %d bytes is too short for a V2 compressed HdrHistogram", len(raw))
	}
	if c := int32(binary.BigEndian.Uint32(raw[0:4])); c&^0xf0 != hdrhistogram.V2CompressedEncodingCookieBase {
		return problemf("", "not a V2 compressed HdrHistogram (cookie %#08x)", uint32(c))
	}
	n := int32(binary.BigEndian.Uint32(raw[4:8]))
	if n < 0 || int(n) > len(raw)-8 {
		return problemf("", "histogram says %d compressed bytes follow, but %d do", n, len(raw)-8)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8 : 8+n]))
	if err != nil {
		return problemf("", "corrupt histogram: %v", err)
	}
	var h [40]byte
	if _, err := io.ReadFull(zr, h[:]); err != nil {
		return problemf("", "corrupt histogram: header: %v", err)
	}
	if c := int32(binary.BigEndian.Uint32(h[0:4])); c&^0xf0 != hdrhistogram.V2EncodingCookieBase {
		return problemf("", "not a V2 HdrHistogram (inner cookie %#08x)", uint32(c))
	}
	sig := int32(binary.BigEndian.Uint32(h[12:16]))
	lo := int64(binary.BigEndian.Uint64(h[16:24]))
	hi := int64(binary.BigEndian.Uint64(h[24:32]))
	if lo != stats.MinMicros || hi != stats.MaxMicros || sig != stats.SigFigures {
		return problemf("", "histogram bounds %d..%d sig %d, want %d..%d sig %d",
			lo, hi, sig, stats.MinMicros, stats.MaxMicros, stats.SigFigures)
	}
	if r := math.Float64frombits(binary.BigEndian.Uint64(h[32:40])); r != 1 {
		return problemf("", "histogram integer-to-double ratio %v, want 1", r)
	}
	return nil
}

// ---- Meta ----

// marshalMeta adds "duration", the run time as a Go duration string, for
// people reading the file; Decode reads duration_s.
func marshalMeta(enc *jsontext.Encoder, m Meta) error {
	type meta Meta // the same keys, without this function
	return json.MarshalEncode(enc, struct {
		meta
		Duration string `json:"duration"`
	}{meta(m), m.Duration.String()})
}
