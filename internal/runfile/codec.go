package runfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// FileFormat is the value of a run file's "format" key.
const FileFormat = "xagent-perf-run"

// FileVersion is the schema version Encode writes and the newest Decode reads.
const FileVersion = 1

// decodeLimits bound what Decode accepts from untrusted input. They are a
// variable only so that tests can lower them; the package doc lists the values.
type decodeLimits struct {
	fileBytes      int // whole input
	entries        int // stats.entries
	points         int // series points of the whole run: stats.series plus every entry's
	failures       int // stats.failures
	exceptions     int // stats.exceptions
	checks         int
	alerts         int
	rows           int // baseline.rows
	strings        int // elements of each list of strings (meta.classes, verdict.reasons, baseline.only_in_*)
	nameBytes      int // names, labels, metrics, URLs, file names, versions
	messageBytes   int // error and one-line messages
	tracebackBytes int // exception tracebacks
	histBytes      int // base64 text of one histogram
	depth          int // JSON nesting
}

var limits = decodeLimits{
	fileBytes:      512 << 20,
	entries:        10_000,
	points:         1_000_000,
	failures:       100_000,
	exceptions:     10_000,
	checks:         100_000,
	alerts:         1_000,
	rows:           100_000,
	strings:        100_000,
	nameBytes:      4 << 10,
	messageBytes:   64 << 10,
	tracebackBytes: 1 << 20,
	histBytes:      1 << 20,
	depth:          64,
}

// objects and elements bound the JSON structure before it is decoded at all,
// so that a small file of empty objects or arrays cannot make the decoder
// allocate far more than its own size: every series point is one object with
// an 11-element array, and everything else in a run file fits in the slack.
func (l decodeLimits) objects() int  { return l.points + 500_000 }
func (l decodeLimits) elements() int { return 12*l.points + 1_000_000 }

// file is a run file: the head, then the run's own keys.
type file struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Run     `json:",inline"`
}

// Encode writes run as one indented JSON document (see the package doc for the
// schema). The same Run always gives the same bytes. Encode writes any Run,
// including one that breaks the invariants Decode checks; every Run built from a
// stats.Recorder snapshot satisfies them. NaN and infinite floats are written
// as null. It fails only when a histogram cannot be encoded or w fails.
func Encode(w io.Writer, run Run) error {
	data, err := json.Marshal(file{Format: FileFormat, Version: FileVersion, Run: run}, encodeOptions)
	if err != nil {
		var se *json.SemanticError
		if errors.As(err, &se) && se.Err != nil {
			return fmt.Errorf("run file: encode %s: %w", pointerPath(se.JSONPointer), se.Err)
		}
		return fmt.Errorf("run file: encode: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("run file: write: %w", err)
	}
	return nil
}

// Decode reads one run file, validating it as untrusted input: every error
// starts with "run file: " and names the JSON path of the problem, e.g.
// "run file: stats.entries[3].failures: 12 failures but 10 requests". Keys it
// does not know are ignored, keys it knows but finds missing read as zero
// values; the limits and checks are listed in the package doc.
func Decode(r io.Reader) (Run, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(limits.fileBytes)+1))
	if err != nil {
		return Run{}, fmt.Errorf("run file: read: %w", err)
	}
	if len(data) > limits.fileBytes {
		return Run{}, fmt.Errorf("run file: larger than the %s limit", byteSize(limits.fileBytes))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Run{}, errors.New("run file: empty input, not a run file")
	}
	if err := checkHead(data); err != nil {
		return Run{}, err
	}
	if err := checkStructure(data); err != nil {
		return Run{}, err
	}
	var f file
	if err := json.Unmarshal(data, &f, decodeOptions); err != nil {
		return Run{}, jsonError(data, err)
	}
	if err := check(&f.Run); err != nil {
		return Run{}, err
	}
	return f.Run, nil
}

// ---- Decoding: errors, head, structure ----

// decodeError is a problem at a JSON path of the input.
type decodeError struct {
	path    string // e.g. "stats.entries[3].service_hist"; "" for the whole document
	problem string
}

func (e *decodeError) Error() string {
	if e.path == "" {
		return "run file: " + e.problem
	}
	return "run file: " + e.path + ": " + e.problem
}

func problemf(path, format string, args ...any) error {
	return &decodeError{path: path, problem: fmt.Sprintf(format, args...)}
}

// at prefixes the path of err, a *decodeError, with prefix.
func at(prefix string, err error) error {
	var de *decodeError
	if !errors.As(err, &de) {
		return err
	}
	switch {
	case de.path == "":
		de.path = prefix
	case prefix == "":
	case strings.HasPrefix(de.path, "["):
		de.path = prefix + de.path
	default:
		de.path = prefix + "." + de.path
	}
	return de
}

// typeError is a JSON value of the wrong kind for its key.
type typeError struct{ got, want string }

func (e *typeError) Error() string { return "got " + e.got + ", want " + e.want }

// checkHead checks "format" and "version" before anything else, so that a file
// of another kind or a newer version gets that error, not a confusing one.
func checkHead(data []byte) error {
	var head struct {
		Format  jsontext.Value `json:"format"`
		Version jsontext.Value `json:"version"`
	}
	if err := json.Unmarshal(data, &head, decodeOptions); err != nil {
		var se *json.SemanticError
		if errors.As(err, &se) && se.JSONPointer == "" && se.JSONKind != 0 {
			return problemf("", "not a run file: the document is a JSON %s, want an object", kindName(se.JSONKind, se.JSONValue))
		}
		return jsonError(data, err)
	}
	if head.Format == nil {
		return problemf("", "not a run file: no %q key", "format")
	}
	var format string
	if err := json.Unmarshal(head.Format, &format); err != nil {
		return problemf("format", "not a run file: format is a JSON %s, want the string %q", jsonKind(head.Format), FileFormat)
	}
	if format != FileFormat {
		return problemf("format", "not a run file: format %q, want %q", clip(format, 64), FileFormat)
	}
	if head.Version == nil {
		return problemf("", "no %q key", "version")
	}
	v, err := strconv.ParseInt(string(head.Version), 10, 64)
	switch {
	case err != nil:
		return problemf("version", "%s is not an integer version number", clip(string(head.Version), 64))
	case v > FileVersion:
		return problemf("version", "version %d is newer than this harness reads (%d)", v, FileVersion)
	case v < 1:
		return problemf("version", "version %d is not a valid version (this harness reads %d)", v, FileVersion)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkStructure bounds the document's nesting, objects and array elements in
// one pass over the bytes, before json.Unmarshal allocates anything for them.
// It leaves syntax errors to json.Unmarshal.
func checkStructure(data []byte) error {
	type frame struct{ array, empty bool }
	var (
		stack             []frame
		inString, escaped bool
		objects, elements int
	)
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].array {
			switch top := &stack[n-1]; {
			case c == ',':
				elements++
			case c == ']':
			case top.empty:
				top.empty = false
				elements++
			}
			if elements > limits.elements() {
				return problemf("", "more than %d JSON array elements; a run file has at most %d series points and %d entries",
					limits.elements(), limits.points, limits.entries)
			}
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if len(stack) >= limits.depth {
				return problemf("", "JSON nested deeper than %d levels", limits.depth)
			}
			stack = append(stack, frame{array: c == '[', empty: true})
			if c == '{' {
				objects++
				if objects > limits.objects() {
					return problemf("", "more than %d JSON objects; a run file has at most %d series points and %d entries",
						limits.objects(), limits.points, limits.entries)
				}
			}
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return nil
}

// jsonError turns a JSON error into a run file error with a path, and a
// position for malformed JSON and values of the wrong kind.
func jsonError(data []byte, err error) error {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.ByteOffset)
		if errors.Is(syn.Err, io.ErrUnexpectedEOF) {
			return problemf("", "truncated: the JSON ends early at line %d, column %d", line, col)
		}
		return problemf("", "not valid JSON at line %d, column %d: %v", line, col, syn.Err)
	case errors.As(err, &sem):
		path := pointerPath(sem.JSONPointer)
		var de *decodeError
		if errors.As(sem.Err, &de) {
			return at(path, de)
		}
		var te *typeError
		if !errors.As(sem.Err, &te) {
			if sem.JSONKind == 0 || sem.GoType == nil {
				return fmt.Errorf("run file: %s: %w", path, err)
			}
			te = &typeError{got: kindName(sem.JSONKind, sem.JSONValue), want: describe(sem.GoType)}
		}
		line, col := lineCol(data, sem.ByteOffset)
		return problemf(path, "%v (line %d, column %d)", te, line, col)
	}
	return fmt.Errorf("run file: %w", err)
}

// pointerPath writes a JSON pointer as the package's paths: "/stats/entries/3/name"
// is "stats.entries[3].name".
func pointerPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 64); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// kindName names a JSON value's kind for error messages, with a number's text.
func kindName(k jsontext.Kind, v jsontext.Value) string {
	switch k {
	case '"':
		return "string"
	case '0':
		if len(v) == 0 {
			return "number"
		}
		return "number " + clip(string(v), 64)
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

// jsonKind names the kind of a raw JSON value for error messages.
func jsonKind(b jsontext.Value) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "value " + clip(string(b), 64)
}

// describe names what a Go type expects in JSON.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return describe(t.Elem())
	}
	return t.String()
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func byteSize(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}
