package fakeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fieldErr is one entry of FastAPI's 422 answer, in pydantic 2's words.
type fieldErr struct {
	typ   string
	loc   string // JSON array items, e.g. `"body","password"`
	msg   string
	input []byte // raw JSON
	ctx   string // raw JSON object, or empty
}

// appendErrors renders {"detail":[...]} as FastAPI does.
func appendErrors(b []byte, errs []fieldErr) []byte {
	b = append(b, `{"detail":[`...)
	for i, e := range errs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendStr(b, e.typ)
		b = append(b, `,"loc":[`...)
		b = append(b, e.loc...)
		b = append(b, `],"msg":`...)
		b = appendStr(b, e.msg)
		b = append(b, `,"input":`...)
		b = append(b, e.input...)
		if e.ctx != "" {
			b = append(b, `,"ctx":`...)
			b = append(b, e.ctx...)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// jsonString renders s as a JSON string value.
func jsonString(s string) []byte { return appendStr(nil, s) }

// compactJSON re-renders raw JSON without insignificant whitespace, as Python
// re-serialises a parsed "input".
func compactJSON(raw []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return jsonString(string(raw))
	}
	return buf.Bytes()
}

// bodyKind is what a request body turned out to hold.
type bodyKind uint8

const (
	bodyAbsent bodyKind = iota // empty body or JSON null
	bodyObject
	bodyOther // valid JSON that is not an object
)

// parsedBody is a JSON request body after FastAPI's decoding step.
type parsedBody struct {
	kind   bodyKind
	raw    []byte // the body as sent
	fields map[string]json.RawMessage
}

// input renders the whole body as pydantic echoes it in a "missing" error.
func (p parsedBody) input() []byte {
	if p.kind == bodyAbsent {
		return []byte("null")
	}
	return compactJSON(p.raw)
}

// bodyError is an answer to a body that cannot be decoded.
type bodyError struct {
	status int
	body   []byte
}

// parseBody decodes a request body the way FastAPI does before running any
// dependency: undecodable bytes give 400, broken JSON 422 json_invalid.
func parseBody(raw []byte) (parsedBody, *bodyError) {
	if len(raw) == 0 {
		return parsedBody{kind: bodyAbsent}, nil
	}
	if !utf8.Valid(raw) {
		return parsedBody{}, &bodyError{status: 400, body: bodyParseError}
	}
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	var fields map[string]json.RawMessage
	var err error
	if len(trimmed) > 0 && trimmed[0] == '{' {
		err = json.Unmarshal(raw, &fields)
	} else {
		var v json.RawMessage
		err = json.Unmarshal(raw, &v)
	}
	if err != nil {
		return parsedBody{}, jsonInvalid(raw, err)
	}
	switch {
	case fields != nil:
		return parsedBody{kind: bodyObject, raw: raw, fields: fields}, nil
	case bytes.Equal(bytes.TrimSpace(raw), []byte("null")):
		return parsedBody{kind: bodyAbsent, raw: raw}, nil
	}
	return parsedBody{kind: bodyOther, raw: raw}, nil
}

// jsonInvalid builds FastAPI's answer to a JSONDecodeError: loc ["body", pos].
func jsonInvalid(raw []byte, err error) *bodyError {
	pos := len(raw)
	msg := "Expecting value"
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		if syn.Offset > 0 && int(syn.Offset) <= len(raw) {
			pos = int(syn.Offset) - 1
		}
		text := syn.Error()
		switch {
		case strings.Contains(text, "after top-level value"):
			msg = "Extra data"
		case strings.Contains(text, "beginning of object key"):
			msg = "Expecting property name enclosed in double quotes"
		case strings.Contains(text, "after object key:value pair"), strings.Contains(text, "after array element"):
			msg = "Expecting ',' delimiter"
		case strings.Contains(text, "after object key"):
			msg = "Expecting ':' delimiter"
		case strings.Contains(text, "in string literal"):
			msg = "Invalid control character at"
		}
	}
	if pos > len(raw) {
		pos = len(raw)
	}
	pos = utf8.RuneCount(raw[:pos]) // Python counts characters
	errs := []fieldErr{{
		typ:   "json_invalid",
		loc:   `"body",` + strconv.Itoa(pos),
		msg:   "JSON decode error",
		input: []byte("{}"),
		ctx:   `{"error":` + string(jsonString(msg)) + `}`,
	}}
	return &bodyError{status: 422, body: appendErrors(nil, errs)}
}

// model validates one pydantic body model, collecting errors in field order.
type model struct {
	body parsedBody
	errs []fieldErr
}

// newModel starts validating a body that must be a JSON object; for anything
// else it records pydantic's error and fields stay empty.
func newModel(body parsedBody) *model {
	m := &model{body: body}
	switch body.kind {
	case bodyAbsent:
		m.errs = append(m.errs, fieldErr{typ: "missing", loc: `"body"`, msg: "Field required", input: []byte("null")})
	case bodyOther:
		m.errs = append(m.errs, fieldErr{
			typ: "model_attributes_type", loc: `"body"`,
			msg:   "Input should be a valid dictionary or object to extract fields from",
			input: compactJSON(body.raw),
		})
	}
	return m
}

// ok reports whether every field validated.
func (m *model) ok() bool { return len(m.errs) == 0 }

// answer renders the 422 body.
func (m *model) answer() []byte { return appendErrors(nil, m.errs) }

// field returns a raw field; present is false when the key is absent.
func (m *model) field(name string) (json.RawMessage, bool) {
	if m.body.kind != bodyObject {
		return nil, false
	}
	raw, ok := m.body.fields[name]
	return raw, ok
}

// loc renders ["body", name].
func bodyLoc(name string) string { return `"body",` + string(jsonString(name)) }

// missing records a required field that is absent.
func (m *model) missing(name string) {
	m.errs = append(m.errs, fieldErr{typ: "missing", loc: bodyLoc(name), msg: "Field required", input: m.body.input()})
}

// str validates a str field; def is used when the field is optional and absent.
func (m *model) str(name string, required bool, def string) string {
	raw, ok := m.field(name)
	if !ok {
		if required && m.body.kind == bodyObject {
			m.missing(name)
		}
		return def
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		m.errs = append(m.errs, fieldErr{typ: "string_type", loc: bodyLoc(name), msg: "Input should be a valid string", input: compactJSON(raw)})
		return def
	}
	return s
}

// intBounds are optional ge/le constraints of an int field.
type intBounds struct {
	hasGE, hasLE bool
	ge, le       int64
}

// pyInt is an integer as Python holds it: exact when it fits int64, otherwise
// only its sign is kept (big is set).
type pyInt struct {
	v   int64
	big bool
}

// intField validates an int field in pydantic's lax mode.
func (m *model) intField(name string, def int64, bounds intBounds) pyInt {
	raw, ok := m.field(name)
	if !ok {
		return pyInt{v: def}
	}
	v, e := laxInt(raw)
	if e != nil {
		e.loc = bodyLoc(name)
		m.errs = append(m.errs, *e)
		return pyInt{v: def}
	}
	if e := bounds.check(v, compactJSON(raw)); e != nil {
		e.loc = bodyLoc(name)
		m.errs = append(m.errs, *e)
		return pyInt{v: def}
	}
	return v
}

// check applies ge/le the way pydantic words them.
func (b intBounds) check(v pyInt, input []byte) *fieldErr {
	if b.hasGE && (v.v < b.ge || v.big && v.v < 0) {
		return &fieldErr{typ: "greater_than_equal", msg: "Input should be greater than or equal to " + strconv.FormatInt(b.ge, 10),
			input: input, ctx: `{"ge":` + strconv.FormatInt(b.ge, 10) + `}`}
	}
	if b.hasLE && (v.v > b.le || v.big && v.v > 0) {
		return &fieldErr{typ: "less_than_equal", msg: "Input should be less than or equal to " + strconv.FormatInt(b.le, 10),
			input: input, ctx: `{"le":` + strconv.FormatInt(b.le, 10) + `}`}
	}
	return nil
}

// laxInt converts a JSON value to an int as pydantic's lax mode does: integral
// numbers, bools and numeric strings are accepted.
func laxInt(raw json.RawMessage) (pyInt, *fieldErr) {
	input := compactJSON(raw)
	intType := &fieldErr{typ: "int_type", msg: "Input should be a valid integer", input: input}
	if len(raw) == 0 {
		return pyInt{}, intType
	}
	switch c := raw[0]; {
	case c == 't':
		return pyInt{v: 1}, nil
	case c == 'f':
		return pyInt{v: 0}, nil
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return pyInt{}, intType
		}
		v, ok := parseIntString(s)
		if !ok {
			return pyInt{}, &fieldErr{typ: "int_parsing", msg: "Input should be a valid integer, unable to parse string as an integer", input: input}
		}
		return v, nil
	case c == '-' || c >= '0' && c <= '9':
		return numberInt(string(raw), input)
	}
	return pyInt{}, intType
}

// numberInt converts a JSON number literal: integers exactly, floats when integral.
func numberInt(lit string, input []byte) (pyInt, *fieldErr) {
	if !strings.ContainsAny(lit, ".eE") {
		return bigOrInt(lit), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return pyInt{}, &fieldErr{typ: "int_type", msg: "Input should be a valid integer", input: input}
	}
	if math.IsInf(f, 0) {
		return pyInt{}, &fieldErr{typ: "finite_number", msg: "Input should be a finite number", input: input}
	}
	if f != math.Trunc(f) {
		return pyInt{}, &fieldErr{typ: "int_from_float", msg: "Input should be a valid integer, got a number with a fractional part", input: input}
	}
	if f > math.MaxInt64 || f < math.MinInt64 {
		return pyInt{v: int64(math.Copysign(1, f)), big: true}, nil
	}
	return pyInt{v: int64(f)}, nil
}

// bigOrInt parses a string of digits with an optional sign, saturating to a big pyInt.
func bigOrInt(s string) pyInt {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return pyInt{v: v}
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return pyInt{}
	}
	return pyInt{v: int64(n.Sign()), big: true}
}

// parseIntString parses a str as pydantic does: surrounding whitespace, a sign,
// digits, and trailing ".0…" are allowed.
func parseIntString(s string) (pyInt, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if strings.Trim(s[i+1:], "0") != "" {
			return pyInt{}, false
		}
		s = s[:i]
	}
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" {
		return pyInt{}, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return pyInt{}, false
		}
	}
	return bigOrInt(strings.TrimPrefix(s, "+")), true
}

// strList validates a list[str] field; absent yields nil.
func (m *model) strList(name string) []string {
	raw, ok := m.field(name)
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		m.errs = append(m.errs, fieldErr{typ: "list_type", loc: bodyLoc(name), msg: "Input should be a valid list", input: compactJSON(raw)})
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		var s string
		if len(item) == 0 || item[0] != '"' || json.Unmarshal(item, &s) != nil {
			m.errs = append(m.errs, fieldErr{typ: "string_type", loc: bodyLoc(name) + "," + strconv.Itoa(i),
				msg: "Input should be a valid string", input: compactJSON(item)})
			continue
		}
		out = append(out, s)
	}
	return out
}

// roleField validates a UserRole enum field (default user).
func (m *model) roleField(name string) role {
	raw, ok := m.field(name)
	if !ok {
		return roleUser
	}
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		if r := roleOf(s); r != roleNone {
			return r
		}
	}
	const expected = "'admin', 'user', 'service' or 'readonly'"
	m.errs = append(m.errs, fieldErr{typ: "enum", loc: bodyLoc(name), msg: "Input should be " + expected,
		input: compactJSON(raw), ctx: `{"expected":` + string(jsonString(expected)) + `}`})
	return roleUser
}

// sortKey is a sort_by value of GET /goals.
type sortKey uint8

const (
	sortCreated sortKey = iota
	sortUpdated
	sortPriority
	sortStatus
)

// listQuery is a validated GET /goals query.
type listQuery struct {
	page, pageSize   int64
	status, mode     string
	prioMin, prioMax int64
	sortBy           sortKey
	desc             bool
}

// The query patterns GET /goals enforces.
const (
	sortByPattern    = "^(created_at|updated_at|priority|status)$"
	sortOrderPattern = "^(asc|desc)$"
)

// parseListQuery validates the GET /goals query string in FastAPI's parameter
// order; the last of repeated parameters wins, as in Starlette.
func parseListQuery(rawQuery string) (listQuery, []fieldErr) {
	q := listQuery{page: 1, pageSize: 10, prioMin: 1, prioMax: 10, desc: true}
	if rawQuery == "" {
		return q, nil
	}
	var vals [8]string
	var set [8]bool
	names := [8]string{"page", "page_size", "status", "mode", "priority_min", "priority_max", "sort_by", "sort_order"}
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		for i, n := range names {
			if k == n {
				vals[i], set[i] = v, true
			}
		}
	}
	var errs []fieldErr
	intParam := func(i int, def int64, b intBounds) int64 {
		if !set[i] {
			return def
		}
		input := jsonString(vals[i])
		v, ok := parseIntString(vals[i])
		if !ok {
			errs = append(errs, fieldErr{typ: "int_parsing", loc: `"query",` + string(jsonString(names[i])),
				msg: "Input should be a valid integer, unable to parse string as an integer", input: input})
			return def
		}
		if e := b.check(v, input); e != nil {
			e.loc = `"query",` + string(jsonString(names[i]))
			errs = append(errs, *e)
			return def
		}
		if v.big {
			return math.MaxInt64
		}
		return v.v
	}
	pattern := func(i int, pat string, okValues ...string) string {
		if !set[i] {
			return okValues[0]
		}
		for _, ok := range okValues {
			if vals[i] == ok {
				return ok
			}
		}
		errs = append(errs, fieldErr{typ: "string_pattern_mismatch", loc: `"query",` + string(jsonString(names[i])),
			msg: "String should match pattern '" + pat + "'", input: jsonString(vals[i]),
			ctx: `{"pattern":` + string(jsonString(pat)) + `}`})
		return okValues[0]
	}
	q.page = intParam(0, 1, intBounds{hasGE: true, ge: 1})
	q.pageSize = intParam(1, 10, intBounds{hasGE: true, ge: 1, hasLE: true, le: 100})
	q.status, q.mode = vals[2], vals[3]
	q.prioMin = intParam(4, 1, intBounds{hasGE: true, ge: 1, hasLE: true, le: 10})
	q.prioMax = intParam(5, 10, intBounds{hasGE: true, ge: 1, hasLE: true, le: 10})
	switch pattern(6, sortByPattern, "created_at", "updated_at", "priority", "status") {
	case "updated_at":
		q.sortBy = sortUpdated
	case "priority":
		q.sortBy = sortPriority
	case "status":
		q.sortBy = sortStatus
	}
	q.desc = pattern(7, sortOrderPattern, "desc", "asc") == "desc"
	return q, errs
}

// queryUnescape decodes one query component like Python's parse_qsl: '+' is a
// space, bad escapes are kept literally.
func queryUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return strings.ToValidUTF8(u, "\ufffd")
	}
	return strings.ReplaceAll(s, "+", " ")
}
