package fakeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// role is an X-Agent UserRole.
type role uint8

const (
	roleNone role = iota
	roleAdmin
	roleUser
	roleService
	roleReadonly
)

// roleNames are the wire names of the roles.
var roleNames = [...]string{roleAdmin: "admin", roleUser: "user", roleService: "service", roleReadonly: "readonly"}

// roleOf parses a role name; roleNone if unknown.
func roleOf(s string) role {
	for r, name := range roleNames {
		if name != "" && name == s {
			return role(r)
		}
	}
	return roleNone
}

// The scopes the routes require.
const (
	scopeGoalRead     = "goal:read"
	scopeGoalWrite    = "goal:write"
	scopeAgentControl = "agent:control"
)

// roleScopes are the scopes X-Agent grants each role, in the contract's order.
var roleScopes = [...][]string{
	roleAdmin: {"goal:read", "goal:write", "goal:delete", "agent:read", "agent:control", "tool:execute",
		"tool:web_search", "tool:file_ops", "tool:network", "tool:code_exec", "system:metrics", "system:admin"},
	roleUser:     {"goal:read", "goal:write", "agent:read", "agent:control", "tool:execute", "tool:web_search"},
	roleService:  {"goal:read", "agent:read", "system:metrics"},
	roleReadonly: {"goal:read", "agent:read"},
}

// principal is the user a valid token names.
type principal struct {
	sub      string
	role     role
	scopes   []string
	metadata []byte // raw JSON object
}

// has reports whether the token carries a scope (X-Agent checks the token's
// scopes, not the role's).
func (p *principal) has(scope string) bool {
	for _, s := range p.scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// authError is a 401/403 answer of the auth dependencies.
type authError struct {
	status int
	body   []byte
	bearer bool // send WWW-Authenticate: Bearer
}

// write sends the error.
func (e *authError) write(w http.ResponseWriter) int {
	if e.bearer {
		w.Header()["Www-Authenticate"] = hdrBearer
	}
	return writeJSON(w, e.status, e.body)
}

// detail builds an auth error with {"detail": msg}.
func detail(status int, bearer bool, msg string) *authError {
	b := append([]byte(`{"detail":`), jsonString(msg)...)
	return &authError{status: status, body: append(b, '}'), bearer: bearer}
}

// The fixed auth answers.
var (
	errNotAuthenticated = detail(401, true, "Not authenticated")
	errBadScheme        = detail(403, false, "Invalid authentication credentials")
	errBadSignature     = detail(401, true, "Invalid token: bad_signature: ")
	errBadAlgorithm     = detail(401, true, "Invalid token: unsupported_algorithm: ")
	errExpired          = detail(401, true, "Token has expired")
	errMissingSubject   = detail(401, false, "Invalid token: missing subject")
	errNeedAdmin        = detail(403, false, "Insufficient permissions. Required role: admin")
	errScope            = map[string]*authError{
		scopeGoalRead:     detail(403, false, "Insufficient permissions. Required scope: "+scopeGoalRead),
		scopeGoalWrite:    detail(403, false, "Insufficient permissions. Required scope: "+scopeGoalWrite),
		scopeAgentControl: detail(403, false, "Insufficient permissions. Required scope: "+scopeAgentControl),
	}
)

// tokenInfo is the cached outcome of verifying one token string. The outcome
// depends only on the string and the secret, except expiry, which is checked
// against the clock on every use.
type tokenInfo struct {
	err    *authError // decoding or signature failure
	hasExp bool
	exp    float64    // Unix seconds
	late   *authError // a claims problem X-Agent reports after the expiry check
	p      principal
}

// tokenCache remembers verified tokens so that a load test's repeated token
// costs a map lookup instead of an HMAC and a JSON decode. Bounded: a full
// shard is emptied.
type tokenCache struct {
	seed   maphash.Seed
	verify func(string) *tokenInfo
	shards [16]tokenShard
}

// tokenShard is one lock domain of the cache.
type tokenShard struct {
	mu sync.RWMutex
	m  map[string]*tokenInfo
}

// Bounds of the token cache.
const (
	tokenShardCap   = 1024
	maxCachedTokLen = 4096
)

// newTokenCache returns an empty cache filled by verify.
func newTokenCache(verify func(string) *tokenInfo) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), verify: verify}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*tokenInfo)
	}
	return c
}

// get returns the cached verification of token, computing it on a miss.
func (c *tokenCache) get(token string) *tokenInfo {
	if len(token) > maxCachedTokLen {
		return c.verify(token)
	}
	sh := &c.shards[maphash.String(c.seed, token)%uint64(len(c.shards))]
	sh.mu.RLock()
	info := sh.m[token]
	sh.mu.RUnlock()
	if info != nil {
		return info
	}
	info = c.verify(token)
	sh.mu.Lock()
	if len(sh.m) >= tokenShardCap {
		clear(sh.m)
	}
	sh.m[token] = info
	sh.mu.Unlock()
	return info
}

// authenticate runs FastAPI's HTTPBearer and X-Agent's verify_token.
func (s *Server) authenticate(r *http.Request) (*principal, *authError) {
	vals := r.Header["Authorization"]
	if len(vals) == 0 || vals[0] == "" {
		return nil, errNotAuthenticated
	}
	scheme, cred, _ := strings.Cut(vals[0], " ")
	if scheme == "" || cred == "" {
		return nil, errNotAuthenticated
	}
	if !asciiLowerIs(scheme, "bearer") {
		return nil, errBadScheme
	}
	info := s.tokens.get(cred)
	if info.err != nil {
		return nil, info.err
	}
	if info.hasExp && info.exp < float64(s.now().UnixMicro())/1e6 {
		return nil, errExpired
	}
	if info.late != nil {
		return nil, info.late
	}
	return &info.p, nil
}

// asciiLowerIs reports whether Python's s.lower() == want for an ASCII want.
func asciiLowerIs(s, want string) bool {
	if len(s) != len(want) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// requireScope authenticates and checks one scope, as require_scope does.
func (s *Server) requireScope(r *http.Request, scope string) (*principal, *authError) {
	p, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if !p.has(scope) {
		return nil, errScope[scope]
	}
	return p, nil
}

// verifyToken decodes and checks a token's signature and claims, mapping
// failures onto X-Agent's (authlib's) messages. Only HS256 is accepted.
func (s *Server) verifyToken(token string) *tokenInfo {
	claims := jwt.MapClaims{}
	tok, err := s.parser.ParseWithClaims(token, claims, s.keyFunc)
	if err != nil {
		return &tokenInfo{err: classifyJWTError(tok, err)}
	}
	info := &tokenInfo{}
	// Python: `if exp:` then `exp < now`; falsy values mean no expiry.
	switch exp := claims["exp"].(type) {
	case nil, bool:
		if exp == true {
			info.hasExp, info.exp = true, 1
		}
	case json.Number:
		f, err := exp.Float64()
		if err != nil {
			return &tokenInfo{err: detail(401, true, "Invalid token: invalid exp")}
		}
		info.hasExp, info.exp = f != 0, f
	default:
		return &tokenInfo{err: detail(401, true, "Invalid token: invalid exp")}
	}
	switch sub := claims["sub"].(type) {
	case nil:
		info.late = errMissingSubject
		return info
	case string:
		if sub == "" {
			info.late = errMissingSubject
			return info
		}
		info.p.sub = sub
	default:
		info.late = detail(401, true, "Invalid token: invalid subject")
		return info
	}
	roleName := "user"
	if v, ok := claims["role"]; ok {
		roleName, _ = v.(string)
	}
	if info.p.role = roleOf(roleName); info.p.role == roleNone {
		info.late = detail(401, true, "Invalid token: invalid role")
		return info
	}
	info.p.scopes = []string{}
	if v, ok := claims["scopes"]; ok {
		list, isList := v.([]any)
		if !isList {
			info.late = detail(401, true, "Invalid token: invalid scopes")
			return info
		}
		for _, item := range list {
			sc, isStr := item.(string)
			if !isStr {
				info.late = detail(401, true, "Invalid token: invalid scopes")
				return info
			}
			info.p.scopes = append(info.p.scopes, sc)
		}
	}
	info.p.metadata = []byte("{}")
	if v, ok := claims["metadata"]; ok {
		obj, isObj := v.(map[string]any)
		if !isObj {
			info.late = detail(401, true, "Invalid token: invalid metadata")
			return info
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(obj) == nil {
			info.p.metadata = bytes.TrimSpace(buf.Bytes())
		}
	}
	return info
}

// classifyJWTError words a jwt/v5 failure as authlib would.
func classifyJWTError(tok *jwt.Token, err error) *authError {
	text := err.Error()
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		switch {
		case strings.Contains(text, "number of segments"):
			return detail(401, true, "Invalid token: decode_error: Not enough segments")
		case strings.Contains(text, "header"):
			return detail(401, true, "Invalid token: decode_error: Invalid header string")
		case strings.Contains(text, "signature"):
			return detail(401, true, "Invalid token: decode_error: Invalid crypto padding")
		}
		return detail(401, true, "Invalid token: decode_error: Invalid payload string")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return errBadAlgorithm
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok != nil && tok.Header["alg"] != jwt.SigningMethodHS256.Alg() {
			return errBadAlgorithm
		}
		return errBadSignature
	}
	return detail(401, true, "Invalid token: "+text)
}

// tokenClaims is the payload X-Agent writes, in its key order.
type tokenClaims struct {
	Sub    string   `json:"sub"`
	Role   string   `json:"role"`
	Scopes []string `json:"scopes"`
	Iat    int64    `json:"iat"`
	Exp    int64    `json:"exp"`
}

// GetExpirationTime implements jwt.Claims.
func (c tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}

// GetIssuedAt implements jwt.Claims.
func (c tokenClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Iat, 0)), nil
}

// GetNotBefore implements jwt.Claims; X-Agent sets no nbf.
func (c tokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims; X-Agent sets no iss.
func (c tokenClaims) GetIssuer() (string, error) { return "", nil }

// GetSubject implements jwt.Claims.
func (c tokenClaims) GetSubject() (string, error) { return c.Sub, nil }

// GetAudience implements jwt.Claims; X-Agent sets no aud.
func (c tokenClaims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

// IssueToken signs an HS256 token for sub with the role's scopes, valid for
// ttl from the server clock, as X-Agent's /auth/login does (a test helper).
func (s *Server) IssueToken(sub, roleName string, ttl time.Duration) (string, error) {
	r := roleOf(roleName)
	if r == roleNone {
		return "", fmt.Errorf("fakeapi: issue token: unknown role %q (want admin, user, service or readonly)", roleName)
	}
	now := s.now()
	return s.sign(sub, r, now.Unix(), now.Add(ttl).Unix())
}

// sign writes and signs a token.
func (s *Server) sign(sub string, r role, iat, exp int64) (string, error) {
	claims := tokenClaims{Sub: sub, Role: roleNames[r], Scopes: roleScopes[r], Iat: iat, Exp: exp}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("fakeapi: sign token for %q: %w", sub, err)
	}
	return tok, nil
}
