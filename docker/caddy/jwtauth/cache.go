package jwtauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A verified token is checked again on every request, but its signature only once: an RSA
// verification costs more than the rest of the gateway's work per request (bench/gateway.ts).
// The cache is keyed by the SHA-256 of the whole token string (signature included), so only the
// exact bytes that verified can hit. A hit is not trusted blindly:
//   - the key source is asked again for the token's key (kid and alg, as on a miss), and the entry
//     counts only while it returns the same key(s) that verified it: a JWKS refresh that removes
//     or replaces the key drops the entry, and the token is verified afresh (and refused);
//   - the claims are validated again against the clock (exp, nbf, iat, iss, aud, leeway), by
//     the same validator the parser uses.
//
// Entries live until exp + leeway at most; the cache holds at most cacheMaxEntries tokens of at
// most cacheMaxTokenBytes each, so its memory is bounded whatever clients send (and only tokens
// that verified, that is, minted by the issuer, ever enter it).
const (
	cacheMaxEntries    = 10_000
	cacheMaxTokenBytes = 8 << 10
)

type cachedToken struct {
	token *jwt.Token // parsed header (alg, kid) and claims; read-only once cached
	key   any        // what the key source returned when it verified: a key or a jwt.VerificationKeySet
	until time.Time  // exp + leeway: never valid again after it
}

type tokenCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]*cachedToken
	max     int
	hits    atomic.Int64 // for tests
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{entries: map[[32]byte]*cachedToken{}, max: max}
}

// get returns the entry of a token, dropping it once past its exp + leeway.
func (c *tokenCache) get(k [32]byte, now time.Time) *cachedToken {
	c.mu.RLock()
	e := c.entries[k]
	c.mu.RUnlock()
	if e != nil && now.After(e.until) {
		c.drop(k)
		return nil
	}
	return e
}

func (c *tokenCache) drop(k [32]byte) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

// put makes room first: expired entries go, then (a flood of distinct valid tokens) an eighth of
// the rest, so the scan runs once per max/8 insertions at worst.
func (c *tokenCache) put(k [32]byte, e *cachedToken, now time.Time) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for key, x := range c.entries {
			if now.After(x.until) {
				delete(c.entries, key)
			}
		}
		for key := range c.entries {
			if len(c.entries) < c.max-c.max/8 {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = e
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// verify returns the claims of a valid token: from the cache when the same token verified
// before, its key is still the key source's and its claims still hold; else parsed and verified.
func (h *Handler) verify(ctx context.Context, raw string) (jwt.MapClaims, error) {
	if len(raw) > cacheMaxTokenBytes {
		claims, _, err := h.parse(ctx, raw)
		return claims, err
	}
	sum := sha256.Sum256([]byte(raw))
	now := h.clock()
	if e := h.cache.get(sum, now); e != nil {
		if key, err := h.keys.keyfunc(ctx)(e.token); err == nil && sameKey(key, e.key) {
			if err := h.validator.Validate(e.token.Claims); err != nil {
				h.cache.drop(sum)
				return nil, err
			}
			h.cache.hits.Add(1)
			return e.token.Claims.(jwt.MapClaims), nil
		}
		h.cache.drop(sum)
	}
	claims, e, err := h.parse(ctx, raw)
	if err != nil {
		return nil, err
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		e.until = exp.Add(h.leeway)
		h.cache.put(sum, e, now)
	}
	return claims, nil
}

// parse verifies the signature and the claims, and records which key verified.
func (h *Handler) parse(ctx context.Context, raw string) (jwt.MapClaims, *cachedToken, error) {
	claims := jwt.MapClaims{}
	kf := h.keys.keyfunc(ctx)
	var used any
	tok, err := h.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		k, err := kf(t)
		used = k
		return k, err
	})
	if err != nil {
		return nil, nil, err
	}
	return claims, &cachedToken{token: tok, key: used}, nil
}

// sameKey compares what a key source returned: equal public keys (or HMAC secrets), or key sets
// with the same keys in the same order.
func sameKey(a, b any) bool {
	switch x := a.(type) {
	case jwt.VerificationKeySet:
		y, ok := b.(jwt.VerificationKeySet)
		if !ok || len(x.Keys) != len(y.Keys) {
			return false
		}
		for i := range x.Keys {
			if !sameKey(x.Keys[i], y.Keys[i]) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case interface{ Equal(crypto.PublicKey) bool }:
		return x.Equal(b)
	default:
		return false
	}
}
