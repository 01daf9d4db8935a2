package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"
)

const (
	iss = "https://issuer.test/"
	aud = "shop-api"
)

// Keys are generated per run: the repository holds no key material.
func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func claims(mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": iss, "aud": aud, "sub": "user-42", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// unsigned builds `alg: none` by hand (golang-jwt only signs it with a special constant).
func unsigned(c jwt.MapClaims) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(c)
	return b64(h) + "." + b64(p) + "."
}

type result struct {
	status    int
	body      map[string]string
	challenge string
	upstream  http.Header
}

func serve(t *testing.T, h *Handler, headers map[string]string) result {
	t.Helper()
	req := httptest.NewRequest("GET", "/v1/x", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	var upstream http.Header
	next := nextFunc(func(w http.ResponseWriter, r *http.Request) error {
		upstream = r.Header.Clone()
		w.WriteHeader(200)
		return nil
	})
	if err := h.ServeHTTP(rec, req, next); err != nil {
		t.Fatal(err)
	}
	res := result{status: rec.Code, challenge: rec.Header().Get("WWW-Authenticate"), upstream: upstream}
	if rec.Code == 401 {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("401 body is not JSON: %q", rec.Body.String())
		}
	}
	return res
}

type nextFunc func(http.ResponseWriter, *http.Request) error

func (f nextFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) error { return f(w, r) }

func provision(t *testing.T, h *Handler) *Handler {
	t.Helper()
	if err := h.setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	return h
}

func TestStaticPublicKeyTable(t *testing.T) {
	key := rsaKey(t)
	other := rsaKey(t)
	pubPEM := pemOf(t, &key.PublicKey)
	h := provision(t, &Handler{
		Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: pubPEM,
		ForwardClaims: map[string]string{"sub": "X-User-Id", "scope": "X-Scope"},
	})
	valid := sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { c["scope"] = "read write" }), "")
	hour := time.Hour
	cases := []struct {
		name, auth, want string
	}{
		{"expired", "Bearer " + sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-hour).Unix() }), ""), "the token has expired"},
		{"nbf in the future", "Bearer " + sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(hour).Unix() }), ""), "the token is not valid yet"},
		{"wrong aud", "Bearer " + sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { c["aud"] = "other-api" }), ""), "the token is not for this audience"},
		{"wrong iss", "Bearer " + sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.test/" }), ""), "the token is not from the expected issuer"},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { delete(c, "exp") }), ""), "the token lacks a required claim"},
		{"bad signature", "Bearer " + sign(t, jwt.SigningMethodRS256, other, claims(nil), ""), "the token signature is invalid"},
		{"alg none", "Bearer " + unsigned(claims(nil)), "the token signature is invalid"},
		{"HS256 with the public key's bytes", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(pubPEM), claims(nil), ""), "the token signature is invalid"},
		{"malformed", "Bearer not.a.jwt", "the token is malformed"},
		{"payload tampered", "Bearer " + tamper(valid), "the token signature is invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := serve(t, h, map[string]string{"Authorization": c.auth, "X-User-Id": "admin"})
			if r.status != 401 || r.body["error"] != "invalid_token" || r.body["error_description"] != c.want {
				t.Fatalf("got %d %v, want 401 invalid_token %q", r.status, r.body, c.want)
			}
			if !strings.HasPrefix(r.challenge, `Bearer realm="api", error="invalid_token"`) {
				t.Fatalf("WWW-Authenticate %q", r.challenge)
			}
			if r.upstream != nil {
				t.Fatal("a refused request reached the next handler")
			}
		})
	}
	for _, auth := range []string{"", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer"} {
		r := serve(t, h, map[string]string{"Authorization": auth})
		if r.status != 401 || r.challenge != `Bearer realm="api"` || r.body["error"] != "unauthorized" {
			t.Fatalf("Authorization %q: got %d %q %v", auth, r.status, r.challenge, r.body)
		}
	}
	r := serve(t, h, map[string]string{"Authorization": "bearer " + valid, "X-User-Id": "admin", "X-Scope": "admin"})
	if r.status != 200 || r.upstream.Get("X-User-Id") != "user-42" || r.upstream.Get("X-Scope") != "read write" {
		t.Fatalf("valid token: %d, upstream headers %v", r.status, r.upstream)
	}
	if got := r.upstream.Values("X-User-Id"); len(got) != 1 {
		t.Fatalf("the spoofed X-User-Id survived next to the claim: %v", got)
	}
	// A claim the token lacks: the spoofed header is still removed, and nothing takes its place.
	noScope := sign(t, jwt.SigningMethodRS256, key, claims(nil), "")
	r = serve(t, h, map[string]string{"Authorization": "Bearer " + noScope, "X-Scope": "admin"})
	if r.status != 200 || len(r.upstream.Values("X-Scope")) != 0 {
		t.Fatalf("absent claim: %d %v", r.status, r.upstream)
	}
}

func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(p, &c)
	c["sub"] = "admin"
	p, _ = json.Marshal(c)
	return parts[0] + "." + b64(p) + "." + parts[2]
}

func TestClaimWithControlCharactersIsRefused(t *testing.T) {
	key := rsaKey(t)
	h := provision(t, &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: pemOf(t, &key.PublicKey), ForwardClaims: map[string]string{"sub": "X-User-Id"}})
	tok := sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { c["sub"] = "a\r\nX-Admin: 1" }), "")
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + tok}); r.status != 401 {
		t.Fatalf("got %d", r.status)
	}
}

func TestECCurveMustMatchAlgorithm(t *testing.T) {
	k256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	h := provision(t, &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"ES256"}, PublicKeyPEM: pemOf(t, &k256.PublicKey)})
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + sign(t, jwt.SigningMethodES256, k256, claims(nil), "")}); r.status != 200 {
		t.Fatalf("ES256: %d %v", r.status, r.body)
	}
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + sign(t, jwt.SigningMethodES384, k384, claims(nil), "")}); r.status != 401 {
		t.Fatalf("ES384 on an ES256-only route: %d", r.status)
	}
	bad := &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"ES384"}, PublicKeyPEM: pemOf(t, &k256.PublicKey)}
	if err := bad.setup(context.Background()); err == nil || !strings.Contains(err.Error(), "does not suit the public key") {
		t.Fatalf("ES384 with a P-256 key: %v", err)
	}
}

func TestHMACSecretFile(t *testing.T) {
	dir := t.TempDir()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	file := filepath.Join(dir, "jwt-secret")
	if err := os.WriteFile(file, []byte(b64(secret)+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	h := provision(t, &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"HS256"}, HMACSecretFile: file, ForwardClaims: map[string]string{"sub": "X-User-Id"}})
	// The secret is the file's text (without the newline), used as bytes, as most issuers do.
	ok := sign(t, jwt.SigningMethodHS256, []byte(b64(secret)), claims(nil), "")
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + ok}); r.status != 200 || r.upstream.Get("X-User-Id") != "user-42" {
		t.Fatalf("HS256: %d %v", r.status, r.body)
	}
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("x"+b64(secret)), claims(nil), "")}); r.status != 401 {
		t.Fatalf("other secret: %d", r.status)
	}
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(t), claims(nil), "")}); r.status != 401 {
		t.Fatalf("RS256 on an HMAC route: %d", r.status)
	}
	// Seed 003's tokens: HS256 with sub, email and exp only. Without issuer and audience set, the
	// secret alone decides; with them set, such a token is refused.
	bare := sign(t, jwt.SigningMethodHS256, []byte(b64(secret)), jwt.MapClaims{"sub": "user-42", "email": "u@example.com", "exp": time.Now().Add(time.Hour).Unix()}, "")
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + bare}); r.status != 401 {
		t.Fatalf("a token without iss/aud on a route that names them: %d", r.status)
	}
	open := provision(t, &Handler{Algorithms: []string{"HS256"}, HMACSecretFile: file})
	if r := serve(t, open, map[string]string{"Authorization": "Bearer " + bare}); r.status != 200 {
		t.Fatalf("seed-003 token on a route without issuer/audience: %d %v", r.status, r.body)
	}
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("too-short"), 0o400)
	if err := (&Handler{Issuer: iss, Audience: aud, Algorithms: []string{"HS256"}, HMACSecretFile: short}).setup(context.Background()); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("short secret: %v", err)
	}
}

func TestConfigChecks(t *testing.T) {
	key := rsaKey(t)
	pub := pemOf(t, &key.PublicKey)
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(t, key)}))
	cases := []struct {
		name string
		h    Handler
		want string
	}{
		{"none", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"none"}, PublicKeyPEM: pub}, "not supported"},
		{"HS with a public key", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256", "HS256"}, PublicKeyPEM: pub}, "does not suit the key source"},
		{"RS with a secret", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, HMACSecretFile: "/x"}, "does not suit the key source"},
		{"two sources", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: pub, JWKSURL: "https://x/"}, "exactly one"},
		{"no source", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}}, "exactly one"},
		{"no audience with a public key", Handler{Issuer: iss, Algorithms: []string{"RS256"}, PublicKeyPEM: pub}, "required with jwks_url"},
		{"no algorithms", Handler{Issuer: iss, Audience: aud, PublicKeyPEM: pub}, "empty"},
		{"private key", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: priv}, "PUBLIC KEY only"},
		{"ES256 on an RSA key", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"ES256"}, PublicKeyPEM: pub}, "does not suit the public key"},
		{"header with a colon", Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: pub, ForwardClaims: map[string]string{"sub": "X-A: b"}}, "forward_claims"},
	}
	for _, c := range cases {
		h := c.h
		if err := h.setup(context.Background()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func mustPKCS8(t *testing.T, k any) []byte {
	t.Helper()
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwksServer serves a JWK Set the test can replace, and counts the fetches.
type jwksServer struct {
	mu      sync.Mutex
	body    []byte
	fetches atomic.Int32
	*httptest.Server
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...map[string]string) {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func edJWK(kid string, k ed25519.PublicKey) map[string]string {
	return map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(k)}
}

func TestJWKSRotationAndUnknownKid(t *testing.T) {
	a, b := rsaKey(t), rsaKey(t)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	srv := newJWKSServer(t)
	srv.set(rsaJWK("a", &a.PublicKey), edJWK("ed", edPub))
	refresh := 300 * time.Millisecond
	h := provision(t, &Handler{
		Issuer: iss, Audience: aud, Algorithms: []string{"RS256", "EdDSA"}, JWKSURL: srv.URL,
		JWKSRefresh: caddy.Duration(refresh), UnknownKIDMinInterval: caddy.Duration(time.Hour),
		ForwardClaims: map[string]string{"sub": "X-User-Id"},
	})
	tokA := sign(t, jwt.SigningMethodRS256, a, claims(nil), "a")
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + tokA}); r.status != 200 {
		t.Fatalf("key a: %d %v", r.status, r.body)
	}
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + sign(t, jwt.SigningMethodEdDSA, edPriv, claims(nil), "ed")}); r.status != 200 {
		t.Fatalf("Ed25519: %d %v", r.status, r.body)
	}
	// HS256 "signed" with the RSA modulus, under a kid the set knows: the key type refuses it.
	conf := sign(t, jwt.SigningMethodHS256, a.PublicKey.N.Bytes(), claims(nil), "a")
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + conf}); r.status != 401 {
		t.Fatalf("HS/RS confusion through the JWKS: %d", r.status)
	}

	// Rotation: b replaces a. A token under the new kid is accepted at once (the one unknown-kid
	// fetch the limiter allows), and a's tokens stop within one refresh period.
	srv.set(rsaJWK("b", &b.PublicKey))
	tokB := sign(t, jwt.SigningMethodRS256, b, claims(nil), "b")
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + tokB}); r.status != 200 {
		t.Fatalf("key b after rotation: %d %v", r.status, r.body)
	}
	deadline := time.Now().Add(10 * refresh)
	for serve(t, h, map[string]string{"Authorization": "Bearer " + tokA}).status != 401 {
		if time.Now().After(deadline) {
			t.Fatal("the removed key a still verifies after 10 refresh periods")
		}
		time.Sleep(refresh / 3)
	}

	// Made-up kids: the limiter (one per hour here, spent on b) allows no further fetch.
	before := srv.fetches.Load()
	for i := 0; i < 20; i++ {
		tok := sign(t, jwt.SigningMethodRS256, b, claims(nil), "made-up-"+string(rune('a'+i)))
		if r := serve(t, h, map[string]string{"Authorization": "Bearer " + tok}); r.status != 401 || r.body["error_description"] != "no key verifies the token" {
			t.Fatalf("made-up kid: %d %v", r.status, r.body)
		}
	}
	// Periodic refreshes may run meanwhile; 20 unknown kids must not add 20 fetches.
	if extra := srv.fetches.Load() - before; extra > 3 {
		t.Fatalf("20 unknown kids caused %d JWKS fetches", extra)
	}
}

func TestJWKSDownAtStartDoesNotFailProvision(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	h := provision(t, &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, JWKSURL: srv.URL})
	if r := serve(t, h, map[string]string{"Authorization": "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(t), claims(nil), "k")}); r.status != 401 {
		t.Fatalf("got %d", r.status)
	}
}

func TestAJWKSRedirectNeverLeavesHTTPS(t *testing.T) {
	req := func(u string) *http.Request {
		r, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	start := []*http.Request{req("https://idp.example/.well-known/jwks.json")}
	if err := noDowngrade(req("https://keys.idp.example/jwks.json"), start); err != nil {
		t.Errorf("an https to https move refused: %v", err)
	}
	if err := noDowngrade(req("http://keys.idp.example/jwks.json"), start); err == nil {
		t.Error("an https to http redirect followed")
	}
	// A later hop counts too: https, then https, then http.
	if err := noDowngrade(req("http://x.example/"), append(start, req("https://keys.idp.example/jwks.json"))); err == nil {
		t.Error("a downgrade on the second hop followed")
	}
	plain := []*http.Request{req("http://idp.internal/jwks.json")}
	if err := noDowngrade(req("http://idp2.internal/jwks.json"), plain); err != nil {
		t.Errorf("a URL that was plain HTTP to begin with may move on plain HTTP: %v", err)
	}
	many := []*http.Request{start[0], start[0], start[0], start[0], start[0]}
	if err := noDowngrade(req("https://idp.example/again"), many); err == nil {
		t.Error("a sixth redirect followed")
	}
}
