package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The cached answer of GET /v1/items without a limit (the default page): one key, so a create
// invalidates it exactly. Other limits are read from Postgres every time.
const (
	itemsListKey = "slipway-example:items:list"
	itemsListTTL = 30 * time.Second
	// CacheTimeout bounds every cache call: a cache that does not answer this fast is treated
	// as down for the request, which Postgres then serves.
	CacheTimeout = 100 * time.Millisecond
)

// cacheState is the X-Cache answer: hit, miss (read from Postgres, stored), or down (read from
// Postgres; the cache failed or is pausing after a failure).
type cacheState string

// UseCache turns on the list cache and its counter (cache_requests_total{result}).
func (a *App) UseCache(c Cache) {
	a.cache = c
	a.cacheResults = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cache_requests_total", Help: "Cache lookups of GET /v1/items, by result (hit, miss, down).",
	}, []string{"result"})
	a.registry.MustRegister(a.cacheResults)
}

// cachedItems answers from the cache on a hit; otherwise it says why not, and the caller reads Postgres.
func (a *App) cachedItems(w http.ResponseWriter, r *http.Request) (served bool, state cacheState) {
	ctx, cancel := context.WithTimeout(r.Context(), CacheTimeout)
	defer cancel()
	body, ok, err := a.cache.Get(ctx, itemsListKey)
	switch {
	case err != nil:
		a.cacheFailed(r, "get", err)
		return false, "down"
	case !ok:
		return false, "miss"
	}
	a.cacheResults.WithLabelValues("hit").Inc()
	w.Header().Set("X-Cache", "hit")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return true, "hit"
}

// storeItems writes the page read from Postgres to the cache (a miss), best effort, and answers it.
func (a *App) storeItems(w http.ResponseWriter, r *http.Request, state cacheState, page any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(page)
	if state == "miss" {
		ctx, cancel := context.WithTimeout(r.Context(), CacheTimeout)
		defer cancel()
		if err := a.cache.Set(ctx, itemsListKey, buf.Bytes(), itemsListTTL); err != nil {
			a.cacheFailed(r, "set", err)
			state = "down"
		}
	}
	a.cacheResults.WithLabelValues(string(state)).Inc()
	w.Header().Set("X-Cache", string(state))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// forgetItems drops the cached page after a create. If that fails the page is stale for at most
// its TTL; the create itself has succeeded and is not failed for it.
func (a *App) forgetItems(r *http.Request) {
	if a.cache == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), CacheTimeout)
	defer cancel()
	if err := a.cache.Del(ctx, itemsListKey); err != nil {
		a.cacheFailed(r, "del", err)
	}
}

func (a *App) cacheFailed(r *http.Request, op string, err error) {
	if err == ErrCacheDown {
		return // logged once, when the pause began
	}
	a.log.Warn("cache unavailable; serving from the database", "request_id", RequestID(r.Context()), "op", op, "error", err.Error())
}
