package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Database states, as /ready reports them.
const (
	dbNotConfigured int32 = iota
	dbConnecting
	dbReady
)

// App holds the handlers' dependencies. The store is nil when no database is configured.
type App struct {
	store    Store
	log      *slog.Logger
	dbState  atomic.Int32
	metrics  *Metrics
	registry *prometheus.Registry
	// cache is nil without REDIS_URL (see UseCache).
	cache        Cache
	cacheResults *prometheus.CounterVec
}

// LatencyBuckets are the request histogram's upper bounds, in seconds. Every latency alert
// threshold must be one of them: "P95 above T" is then exactly "fewer than 95 % of requests in the
// le=T bucket", with no interpolation. 0.5 and 2 are the default warning and critical lines (without
// a 2 s bound, requests that all take 1.01 s would read as a 2.4 s P95). Slipway's Observability
// declares this list as its default `metrics.buckets`; change both together.
var LatencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 2.5, 5, 10}

type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func NewApp(store Store, logger *slog.Logger) *App {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests handled, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency, by method, route pattern and status.",
			Buckets: LatencyBuckets,
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight", Help: "HTTP requests being served now.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &App{store: store, log: logger, metrics: m, registry: reg}
	if store != nil {
		a.dbState.Store(dbConnecting)
	}
	return a
}

// Handler is the whole HTTP surface, wrapped in the request-id, metrics and access-log middleware.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", a.health)
	mux.HandleFunc("GET /ready", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /v1/items", a.createItem)
	mux.HandleFunc("GET /v1/items", a.listItems)
	mux.HandleFunc("GET /v1/items/{id}", a.getItem)
	mux.HandleFunc("GET /v1/slow", a.slow)
	return a.middleware(mux)
}

type ctxKey struct{}

// RequestID returns the id the middleware gave this request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// An incoming X-Request-ID is kept (the gateway sets one) only when it is short and plain, since it
// is echoed into logs and headers.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// routeLabel turns the matched ServeMux pattern ("GET /v1/items/{id}") into the route label
// ("/v1/items/{id}"): raw paths would give one time series per item id.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

func (a *App) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, id))
		rec := &recorder{ResponseWriter: w}
		a.metrics.inFlight.Inc()
		defer func() {
			a.metrics.inFlight.Dec()
			if p := recover(); p != nil {
				a.log.Error("handler panic", "request_id", id, "panic", fmt.Sprint(p))
				if rec.status == 0 {
					rec.WriteHeader(http.StatusInternalServerError)
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			// ServeMux writes the matched pattern into the request it was handed (this r).
			route := routeLabel(r.Pattern)
			status := strconv.Itoa(rec.status)
			elapsed := time.Since(start)
			a.metrics.requests.WithLabelValues(r.Method, route, status).Inc()
			a.metrics.duration.WithLabelValues(r.Method, route, status).Observe(elapsed.Seconds())
			a.log.Info("request", "request_id", id, "method", r.Method, "route", route, "path", r.URL.Path,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "request_id": RequestID(r.Context())})
}

// health says the process is up. It never touches the database: a database outage must not make
// the orchestrator restart every replica.
func (a *App) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready says whether this replica can serve traffic: the database answers within a short timeout
// (a draining replica still answers: see drain).
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	switch a.dbState.Load() {
	case dbNotConfigured:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database not configured"})
		return
	case dbConnecting:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database not migrated yet"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.log.Warn("readiness ping failed", "request_id", RequestID(r.Context()), "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// storeReady answers 503 for data endpoints until the table exists.
func (a *App) storeReady(w http.ResponseWriter, r *http.Request) bool {
	if a.dbState.Load() != dbReady {
		writeError(w, r, http.StatusServiceUnavailable, "database not ready")
		return false
	}
	return true
}

func (a *App) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("store error", "request_id", RequestID(r.Context()), "error", err.Error())
	writeError(w, r, http.StatusServiceUnavailable, "database error")
}

func (a *App) createItem(w http.ResponseWriter, r *http.Request) {
	if !a.storeReady(w, r) {
		return
	}
	var body struct {
		Name string `json:"name"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, r, http.StatusBadRequest, "body must be a JSON object {\"name\": string}")
		return
	}
	name := strings.TrimSpace(body.Name)
	if name == "" || len([]rune(name)) > 200 {
		writeError(w, r, http.StatusBadRequest, "name must have 1 to 200 characters")
		return
	}
	it, err := a.store.Create(r.Context(), name)
	if err != nil {
		a.storeFailed(w, r, err)
		return
	}
	a.forgetItems(r)
	w.Header().Set("Location", fmt.Sprintf("/v1/items/%d", it.ID))
	writeJSON(w, http.StatusCreated, it)
}

func (a *App) listItems(w http.ResponseWriter, r *http.Request) {
	if !a.storeReady(w, r) {
		return
	}
	limit := 50
	var state cacheState
	if a.cache != nil && !r.URL.Query().Has("limit") {
		var served bool
		if served, state = a.cachedItems(w, r); served {
			return
		}
	}
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			writeError(w, r, http.StatusBadRequest, "limit must be an integer from 1 to 500")
			return
		}
		limit = n
	}
	items, err := a.store.List(r.Context(), limit)
	if err != nil {
		a.storeFailed(w, r, err)
		return
	}
	if items == nil {
		items = []Item{}
	}
	if state != "" {
		a.storeItems(w, r, state, map[string]any{"items": items})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (a *App) getItem(w http.ResponseWriter, r *http.Request) {
	if !a.storeReady(w, r) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, r, http.StatusBadRequest, "id must be a positive integer")
		return
	}
	it, err := a.store.Get(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "no such item")
		return
	}
	if err != nil {
		a.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// MaxSlow bounds /v1/slow so a test cannot park a connection for long.
const MaxSlow = 5000 * time.Millisecond

// slow holds a request open for ms milliseconds: tests use it to have requests in flight while the
// process is told to stop.
func (a *App) slow(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > MaxSlow {
		writeError(w, r, http.StatusBadRequest, fmt.Sprintf("ms must be an integer from 0 to %d", MaxSlow.Milliseconds()))
		return
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		writeJSON(w, http.StatusOK, map[string]int{"slept_ms": ms})
	case <-r.Context().Done():
		writeError(w, r, http.StatusServiceUnavailable, "client went away")
	}
}
