package fakeapi

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signWith signs admin-like claims with any method and key.
func signWith(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
	require.NoError(t, err)
	return tok
}

func TestAuthNegatives(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	opts := DefaultOptions()
	opts.Now = clock.Now
	s := newTestServer(t, opts)
	now := clock.Now()
	adminClaims := jwt.MapClaims{"sub": "admin", "role": "admin", "scopes": roleScopes[roleAdmin],
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	valid := issue(t, s, "admin", "admin", time.Hour)
	// A hand-made token with the valid signature's payload but alg none.
	none := signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, adminClaims)

	cases := []struct {
		name   string
		auth   *string
		path   string
		method string
		body   string
		status int
		detail string
		bearer bool
	}{
		{name: "missing header", status: 401, detail: "Not authenticated", bearer: true},
		{name: "empty header", auth: ptr(""), status: 401, detail: "Not authenticated", bearer: true},
		{name: "scheme without credentials", auth: ptr("Bearer"), status: 401, detail: "Not authenticated", bearer: true},
		{name: "other scheme", auth: ptr("Basic YWRtaW46YWRtaW4="), status: 403, detail: "Invalid authentication credentials"},
		{name: "malformed", auth: ptr("Bearer not-a-token"), status: 401, detail: "Invalid token: decode_error: Not enough segments", bearer: true},
		{name: "malformed header", auth: ptr("Bearer !!!.e30.sig"), status: 401, detail: "Invalid token: decode_error: Invalid header string", bearer: true},
		{name: "forged signature", auth: ptr("Bearer " + signWith(t, jwt.SigningMethodHS256, []byte("other-secret"), adminClaims)),
			status: 401, detail: "Invalid token: bad_signature: ", bearer: true},
		{name: "tampered payload", auth: ptr("Bearer " + tamper(valid)), status: 401, detail: "Invalid token: bad_signature: ", bearer: true},
		{name: "expired", auth: ptr("Bearer " + issue(t, s, "admin", "admin", -time.Minute)), status: 401, detail: "Token has expired", bearer: true},
		{name: "alg none", auth: ptr("Bearer " + none), status: 401, detail: "Invalid token: unsupported_algorithm: ", bearer: true},
		{name: "RS256 header", auth: ptr("Bearer " + signWith(t, jwt.SigningMethodRS256, rsaKey, adminClaims)),
			status: 401, detail: "Invalid token: unsupported_algorithm: ", bearer: true},
		{name: "HS512 with the right secret", auth: ptr("Bearer " + signWith(t, jwt.SigningMethodHS512, []byte(DefaultSecretKey), adminClaims)),
			status: 401, detail: "Invalid token: unsupported_algorithm: ", bearer: true},
		{name: "no subject", auth: ptr("Bearer " + signWith(t, jwt.SigningMethodHS256, []byte(DefaultSecretKey), jwt.MapClaims{"role": "admin"})),
			status: 401, detail: "Invalid token: missing subject"},
		{name: "missing scope", auth: ptr("Bearer " + issue(t, s, "reader", "readonly", time.Hour)), method: "POST", path: "/goals",
			body: `{"description":"x"}`, status: 403, detail: "Insufficient permissions. Required scope: goal:write"},
		{name: "wrong role", auth: ptr("Bearer " + issue(t, s, "bob", "user", time.Hour)), method: "POST", path: "/auth/token",
			body: `{"username":"x"}`, status: 403, detail: "Insufficient permissions. Required role: admin"},
		{name: "valid", auth: ptr("Bearer " + valid), status: 200},
		{name: "scheme is case-insensitive", auth: ptr("bEaReR " + valid), status: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rq := req{method: "GET", path: "/goals", body: c.body, header: map[string]string{}}
			if c.method != "" {
				rq.method, rq.path = c.method, c.path
			}
			if c.auth != nil {
				rq.header["Authorization"] = *c.auth
			}
			w := serve(s, rq)
			require.Equal(t, c.status, w.Code, w.Body.String())
			if c.detail != "" {
				assert.Equal(t, c.detail, jsonBody(t, w)["detail"])
			}
			if c.bearer {
				assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
			} else {
				assert.Empty(t, w.Header().Get("WWW-Authenticate"))
			}
			// /status treats every failure as anonymous.
			st := serve(s, req{method: "GET", path: "/status", header: rq.header})
			require.Equal(t, 200, st.Code)
			if c.status != 200 && c.method == "" {
				assert.Equal(t, `{"status":"unknown","uptime":null}`, st.Body.String())
			}
		})
	}
}

// tamper flips the role in a token's payload, keeping the signature.
func tamper(tok string) string {
	parts := splitToken(tok)
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(tok, claims)
	if err != nil {
		return tok
	}
	claims["role"] = "admin"
	claims["sub"] = "mallory"
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SigningString()
	if err != nil {
		return tok
	}
	return forged + "." + parts[2]
}

// splitToken splits a compact JWS.
func splitToken(tok string) [3]string {
	var out [3]string
	i := 0
	start := 0
	for j := 0; j < len(tok) && i < 2; j++ {
		if tok[j] == '.' {
			out[i] = tok[start:j]
			i++
			start = j + 1
		}
	}
	out[2] = tok[start:]
	return out
}

func ptr(s string) *string { return &s }

func TestTokenExpiresOnTheClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	opts := DefaultOptions()
	opts.Now = clock.Now
	s := newTestServer(t, opts)
	tok := issue(t, s, "bob", "user", time.Minute)
	require.Equal(t, 200, serve(s, req{method: "GET", path: "/auth/me", header: bearer(tok)}).Code)
	clock.Advance(time.Minute) // exp == now is still valid (X-Agent checks exp < now)
	require.Equal(t, 200, serve(s, req{method: "GET", path: "/auth/me", header: bearer(tok)}).Code)
	clock.Advance(time.Second)
	w := serve(s, req{method: "GET", path: "/auth/me", header: bearer(tok)})
	require.Equal(t, 401, w.Code)
	assert.Equal(t, "Token has expired", jsonBody(t, w)["detail"])
}

func TestLoginTokenIsHS256WithRoleScopes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, DefaultOptions())
	for _, c := range []struct{ user, role string }{{"admin", "admin"}, {"bob", "user"}} {
		w := serve(s, req{method: "POST", path: "/auth/login", body: `{"username":"` + c.user + `","password":"p"}`})
		require.Equal(t, 200, w.Code)
		tok := jsonBody(t, w)["access_token"].(string)
		claims := jwt.MapClaims{}
		parsed, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(tok, claims,
			func(*jwt.Token) (any, error) { return []byte(DefaultSecretKey), nil })
		require.NoError(t, err)
		assert.Equal(t, "JWT", parsed.Header["typ"])
		assert.Equal(t, c.user, claims["sub"])
		assert.Equal(t, c.role, claims["role"])
		assert.ElementsMatch(t, toAny(roleScopes[roleOf(c.role)]), claims["scopes"])
		assert.InDelta(t, 24*3600, claims["exp"].(float64)-claims["iat"].(float64), 1)
	}
}

func TestSecretsAreIsolated(t *testing.T) {
	t.Parallel()
	a := newTestServer(t, Options{SecretKey: "a"})
	b := newTestServer(t, Options{SecretKey: "b"})
	tok := issue(t, a, "admin", "admin", time.Hour)
	assert.Equal(t, 200, serve(a, req{method: "GET", path: "/auth/me", header: bearer(tok)}).Code)
	w := serve(b, req{method: "GET", path: "/auth/me", header: bearer(tok)})
	assert.Equal(t, 401, w.Code)
	_, err := a.IssueToken("x", "root", time.Hour)
	assert.ErrorContains(t, err, "root")
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
