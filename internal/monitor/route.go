package monitor

import (
	"regexp"
	"strings"
)

// uuidRe finds a UUID anywhere in a path segment ("goal_3fa85f64-5717-…").
var uuidRe = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// IDSegment is what RouteTemplate puts in place of an id segment.
const IDSegment = "{id}"

// RouteTemplate maps a request path to its route template, so that servers
// labelling every goal id separately (endpoint="/goals/3fa85f64-…") and
// clients naming them either way group together: a segment that is an id
// becomes "{id}", e.g. /goals/goal_3fa85f64-5717-4562-b3fc-2c963f66afa6 →
// /goals/{id}. Ids are: numbers, segments containing a UUID, segments of at
// least 16 id characters (letters, digits, '_', '-', '.', ':') with a digit
// (long hex, ULIDs, ObjectIDs), and placeholders already templated by
// someone else ({goal_id}, [id], <id>, :id). The query string is dropped;
// anything not starting with '/' (e.g. the fake's "unmatched") is kept as is.
func RouteTemplate(path string) string {
	path = strings.TrimSpace(path)
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if !strings.HasPrefix(path, "/") {
		return path
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if isIDSegment(s) {
			segs[i] = IDSegment
		}
	}
	return strings.Join(segs, "/")
}

func isIDSegment(s string) bool {
	n := len(s)
	if n == 0 {
		return false
	}
	if n >= 2 && ((s[0] == '{' && s[n-1] == '}') || (s[0] == '[' && s[n-1] == ']') || (s[0] == '<' && s[n-1] == '>')) {
		return true
	}
	if s[0] == ':' && n > 1 {
		return true
	}
	digits, other := 0, 0
	for i := 0; i < n; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-', c == '.', c == ':', c == '~':
		default:
			other++
		}
	}
	if digits == n {
		return true
	}
	if uuidRe.MatchString(s) {
		return true
	}
	return other == 0 && n >= 16 && digits > 0
}
