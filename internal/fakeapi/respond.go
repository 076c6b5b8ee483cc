package fakeapi

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Header values shared by every response; net/http never edits a value slice
// in place, so sharing them saves an allocation per request. Read-only.
var (
	hdrJSON        = []string{"application/json"}
	hdrText        = []string{"text/plain; charset=utf-8"}
	hdrBearer      = []string{"Bearer"}
	hdrTrue        = []string{"true"}
	hdrOrigin      = []string{"Origin"}
	hdrStar        = []string{"*"}
	hdrSixty       = []string{"60"}
	hdrCORSMethods = []string{"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"}
	hdrMaxAge      = []string{"600"}
)

// Static answers, as FastAPI renders them (compact JSON).
var (
	bodyRoot            = []byte(`{"name":"X-Agent API","version":"0.1.0","status":"running"}`)
	bodyStatusAnonymous = []byte(`{"status":"unknown","uptime":null}`)
	bodyNotFound        = []byte(`{"detail":"Not Found"}`)
	bodyMethodNotAllow  = []byte(`{"detail":"Method Not Allowed"}`)
	bodyGoalNotFound    = []byte(`{"detail":"Goal not found"}`)
	bodyRateLimited     = []byte(`{"detail":"Rate limit exceeded. Please try again later."}`)
	bodyTooLarge        = []byte(`{"detail":"Request body too large"}`)
	bodyParseError      = []byte(`{"detail":"There was an error parsing the body"}`)
	bodyUnavailable     = []byte(`{"detail":"Service Unavailable"}`)
	bodyInternal        = []byte("Internal Server Error")
	bodyStarted         = []byte(`{"status":"started","message":"Agent started successfully"}`)
	bodyStopped         = []byte(`{"status":"stopped","message":"Agent stopped successfully"}`)
	bodyPreflightOK     = []byte("OK")
	bodyPreflightBad    = []byte("Disallowed CORS method")
)

// chunkLimit is the body size above which net/http would switch to chunked
// encoding (its buffer is 2 KiB); uvicorn always sends Content-Length.
const chunkLimit = 2000

// writeBody writes a complete answer and returns its status for the metrics.
func writeBody(w http.ResponseWriter, status int, contentType []string, body []byte) int {
	h := w.Header()
	h["Content-Type"] = contentType
	if len(body) > chunkLimit {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client left; nothing to do
	return status
}

// writeJSON writes a JSON answer.
func writeJSON(w http.ResponseWriter, status int, body []byte) int {
	return writeBody(w, status, hdrJSON, body)
}

// writeInternalError answers like Starlette's ServerErrorMiddleware on an unhandled exception.
func writeInternalError(w http.ResponseWriter) int {
	return writeBody(w, http.StatusInternalServerError, hdrText, bodyInternal)
}

// bufPool recycles response buffers; buffers that grew large are dropped.
type bufPool struct{ p sync.Pool }

// maxPooledBuf is the largest buffer worth keeping for reuse.
const maxPooledBuf = 64 << 10

// get returns an empty buffer.
func (b *bufPool) get() *[]byte {
	if v := b.p.Get(); v != nil {
		bp := v.(*[]byte)
		*bp = (*bp)[:0]
		return bp
	}
	buf := make([]byte, 0, 2048)
	return &buf
}

// put returns a buffer to the pool.
func (b *bufPool) put(bp *[]byte) {
	if cap(*bp) <= maxPooledBuf {
		b.p.Put(bp)
	}
}

// appendStr appends s as a JSON string the way Python's json.dumps(ensure_ascii=False)
// writes it: raw UTF-8, only quotes, backslashes and control characters escaped.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendStrList appends a JSON array of strings.
func appendStrList(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, s)
	}
	return append(b, ']')
}

// appendPyFloat appends f as Python's repr does (1.0, 0.25, 1e-05, 1e+16).
func appendPyFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	n := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if bytes.IndexByte(b[n:], '.') < 0 {
		b = append(b, '.', '0')
	}
	return b
}

// appendISO appends t in UTC as Python's datetime.isoformat() writes an aware
// datetime: microseconds, omitted when zero, and a +00:00 offset.
func appendISO(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		for d := 100000; d > 0; d /= 10 {
			b = append(b, byte('0'+us/d%10))
		}
	}
	return append(b, "+00:00"...)
}
