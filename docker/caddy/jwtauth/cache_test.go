package jwtauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"
)

// A clock the test moves: the handler's parser, validator and cache all read it.
type fakeClock struct{ unix atomic.Int64 }

func (c *fakeClock) now() time.Time      { return time.Unix(c.unix.Load(), 0) }
func (c *fakeClock) set(t time.Time)     { c.unix.Store(t.Unix()) }
func (c *fakeClock) add(d time.Duration) { c.unix.Add(int64(d / time.Second)) }

func bearerOf(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "X-User-Id": "admin"}
}

func TestCachedTokenStillExpiresAndHonoursNbf(t *testing.T) {
	key, other := rsaKey(t), rsaKey(t)
	clock := &fakeClock{}
	start := time.Now().Truncate(time.Second)
	clock.set(start)
	zero := caddy.Duration(0)
	h := &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: pemOf(t, &key.PublicKey),
		ForwardClaims: map[string]string{"sub": "X-User-Id"}, Leeway: &zero, now: clock.now}
	provision(t, h)

	exp := start.Add(time.Minute)
	c := jwt.MapClaims{"iss": iss, "aud": aud, "sub": "user-42", "iat": start.Unix(), "exp": exp.Unix()}
	tok := sign(t, jwt.SigningMethodRS256, key, c, "")
	for i := 0; i < 3; i++ {
		if r := serve(t, h, bearerOf(tok)); r.status != 200 || r.upstream.Get("X-User-Id") != "user-42" || len(r.upstream.Values("X-User-Id")) != 1 {
			t.Fatalf("request %d: %d, upstream %v", i, r.status, r.upstream)
		}
	}
	if got := h.cache.hits.Load(); got != 2 {
		t.Fatalf("%d cache hits for three requests with one token, want 2 (the first one verifies)", got)
	}
	// The same claims under another key's signature are other bytes: verified, and refused.
	if r := serve(t, h, bearerOf(sign(t, jwt.SigningMethodRS256, other, c, ""))); r.status != 401 {
		t.Fatalf("same claims, foreign signature: %d", r.status)
	}

	clock.set(exp.Add(time.Second))
	if r := serve(t, h, bearerOf(tok)); r.status != 401 || r.body["error_description"] != "the token has expired" {
		t.Fatalf("cached token after exp: %d %v", r.status, r.body)
	}
	if h.cache.len() != 0 {
		t.Fatalf("the expired token is still cached (%d entries)", h.cache.len())
	}

	// nbf is checked on every hit too: a clock stepped back before nbf refuses the cached token.
	clock.set(start)
	nbf := start.Add(10 * time.Second)
	late := sign(t, jwt.SigningMethodRS256, key, jwt.MapClaims{"iss": iss, "aud": aud, "sub": "u", "nbf": nbf.Unix(), "exp": exp.Unix()}, "")
	if r := serve(t, h, bearerOf(late)); r.status != 401 || r.body["error_description"] != "the token is not valid yet" {
		t.Fatalf("before nbf: %d %v", r.status, r.body)
	}
	clock.set(nbf)
	if r := serve(t, h, bearerOf(late)); r.status != 200 {
		t.Fatalf("at nbf: %d %v", r.status, r.body)
	}
	clock.set(nbf.Add(-5 * time.Second))
	if r := serve(t, h, bearerOf(late)); r.status != 401 || r.body["error_description"] != "the token is not valid yet" {
		t.Fatalf("cached token with the clock before nbf: %d %v", r.status, r.body)
	}
}

// A JWKS refresh that gives a kid another key, or removes it, invalidates the cached tokens of
// the old key: each is verified afresh and refused.
func TestCachedTokenDroppedWhenTheJWKSChanges(t *testing.T) {
	a, b := rsaKey(t), rsaKey(t)
	srv := newJWKSServer(t)
	srv.set(rsaJWK("k1", &a.PublicKey), rsaJWK("k2", &a.PublicKey))
	refresh := 300 * time.Millisecond
	h := provision(t, &Handler{
		Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, JWKSURL: srv.URL,
		JWKSRefresh: caddy.Duration(refresh), UnknownKIDMinInterval: caddy.Duration(time.Hour),
	})
	tok1 := sign(t, jwt.SigningMethodRS256, a, claims(nil), "k1")
	tok2 := sign(t, jwt.SigningMethodRS256, a, claims(func(c jwt.MapClaims) { c["sub"] = "user-2" }), "k2")
	for _, tok := range []string{tok1, tok1, tok2, tok2} {
		if r := serve(t, h, bearerOf(tok)); r.status != 200 {
			t.Fatalf("before rotation: %d %v", r.status, r.body)
		}
	}
	if h.cache.hits.Load() != 2 {
		t.Fatalf("%d cache hits, want 2", h.cache.hits.Load())
	}

	// k1 now names b's key; k2 is gone.
	srv.set(rsaJWK("k1", &b.PublicKey))
	waitStatus := func(tok string, want int) {
		t.Helper()
		deadline := time.Now().Add(20 * refresh)
		for serve(t, h, bearerOf(tok)).status != want {
			if time.Now().After(deadline) {
				t.Fatalf("still not %d after 20 refresh periods", want)
			}
			time.Sleep(refresh / 3)
		}
	}
	waitStatus(tok1, 401)
	waitStatus(tok2, 401)
	if r := serve(t, h, bearerOf(tok1)); r.status != 401 || r.body["error_description"] != "the token signature is invalid" {
		t.Fatalf("old key's token under the reused kid: %d %v", r.status, r.body)
	}
	if r := serve(t, h, bearerOf(sign(t, jwt.SigningMethodRS256, b, claims(nil), "k1"))); r.status != 200 {
		t.Fatalf("new key: %d %v", r.status, r.body)
	}
}

func TestCacheIsBounded(t *testing.T) {
	key := rsaKey(t)
	h := provision(t, &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: pemOf(t, &key.PublicKey)})
	h.cache = newTokenCache(16)
	var last string
	for i := 0; i < 100; i++ {
		last = sign(t, jwt.SigningMethodRS256, key, claims(func(c jwt.MapClaims) { c["sub"] = "user-" + string(rune('A'+i)) }), "")
		if r := serve(t, h, bearerOf(last)); r.status != 200 {
			t.Fatalf("token %d: %d %v", i, r.status, r.body)
		}
		if n := h.cache.len(); n > 16 {
			t.Fatalf("%d entries in a cache of 16", n)
		}
	}
	if serve(t, h, bearerOf(last)); h.cache.hits.Load() != 1 {
		t.Fatalf("the newest token is not cached (%d hits)", h.cache.hits.Load())
	}
}

// go test -bench . -run XXX: what the handler costs per request with a cached token, and without the cache.
func BenchmarkValidToken(b *testing.B) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	h := &Handler{Issuer: iss, Audience: aud, Algorithms: []string{"RS256"}, PublicKeyPEM: pubPEM, ForwardClaims: map[string]string{"sub": "X-User-Id"}}
	if err := h.setup(context.Background()); err != nil {
		b.Fatal(err)
	}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(nil)).SignedString(key)
	next := nextFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	run := func(b *testing.B) {
		req := httptest.NewRequest("GET", "/v1/x", nil)
		rec := httptest.NewRecorder()
		for i := 0; i < b.N; i++ {
			req.Header.Set("Authorization", "Bearer "+tok)
			if err := h.ServeHTTP(rec, req, next); err != nil || rec.Code != 200 {
				b.Fatal(err, rec.Code)
			}
		}
	}
	b.Run("cached", run)
	b.Run("uncached", func(b *testing.B) { h.cache = newTokenCache(0); run(b) })
}
