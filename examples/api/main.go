// Command api is Slipway's example service: a small JSON API over Postgres with the operational
// surface the components expect (/health, /ready, /metrics, secret files, graceful shutdown).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := LoadConfig(os.Getenv, os.ReadFile)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("bad configuration", "error", err.Error())
		os.Exit(2)
	}
	logger := newLogger(cfg)
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		os.Exit(runMigrate(cfg, logger))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		logger.Error("cannot listen", "port", cfg.Port, "error", err.Error())
		os.Exit(1)
	}
	if err := run(ctx, cfg, logger, ln); err != nil {
		logger.Error("stopped with an error", "error", err.Error())
		os.Exit(1)
	}
}

func newLogger(cfg Config) *slog.Logger {
	var h slog.Handler
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(os.Stdout, nil)
	} else {
		h = slog.NewJSONHandler(os.Stdout, nil)
	}
	l := slog.New(h).With("service", cfg.ServiceName)
	if cfg.Environment != "" {
		l = l.With("environment", cfg.Environment)
	}
	return l
}

// run serves on ln until ctx is cancelled, then drains: the listener closes, in-flight requests
// get cfg.ShutdownGrace to finish. It returns nil on a clean drain.
// startupHold bounds how long a starting replica holds connections back while it waits for the schema.
const startupHold = 10 * time.Second

func run(ctx context.Context, cfg Config, logger *slog.Logger, ln net.Listener) error {
	// Names of the settings that were given, never their values.
	logger.Info("starting", "addr", ln.Addr().String(), "configured", cfg.Configured, "secret_sources", cfg.Sources,
		"sentry", cfg.SentryDSN != "")

	var store Store
	if cfg.DatabaseURL == "" {
		logger.Warn("DATABASE_URL is not set: /ready will answer 503 and /v1/items is unavailable")
	} else {
		s, err := NewPGStore(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
		if err != nil {
			return err
		}
		store = s
		defer s.Close()
	}
	app := NewApp(store, logger)
	if cfg.RedisURL != "" {
		c, err := NewRESP(cfg.RedisURL, CacheTimeout)
		if err != nil {
			return err
		}
		app.UseCache(c)
	}
	migrated := make(chan struct{})
	if store != nil {
		go func() { defer close(migrated); app.connect(ctx) }()
	} else {
		close(migrated)
	}

	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
	}
	served := make(chan error, 1)
	go func() {
		// Accept only once the schema is there (bounded, so /health still answers with the database down):
		// a new replica shares its network aliases with the serving ones during a rollout, and
		// must not answer 503 to traffic it gets before it is ready. Connections made meanwhile
		// wait in the listen backlog instead of failing.
		select {
		case <-migrated:
		case <-time.After(startupHold):
		case <-ctx.Done():
		}
		served <- srv.Serve(ln)
	}()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutdown signal received; draining", "grace_ms", cfg.ShutdownGrace.Milliseconds())
	err := drain(srv, cfg.ShutdownGrace)
	<-migrated
	if err != nil {
		return err
	}
	logger.Info("stopped cleanly")
	return nil
}

// drain closes the listener and idle connections, then lets every request already accepted finish
// with its real answer. Readiness does not turn 503 first: a connection that was mid-request when
// the signal came is still served, and its /ready would then fail a client for no reason. Nothing
// needs the signal either: the gateway's connections fail over once the listener closes, and a
// platform (App Platform, Kubernetes) has taken the replica out of routing before it signals.
func drain(srv *http.Server, grace time.Duration) error {
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
		return fmt.Errorf("requests still in flight after the %s grace period; closed them", grace)
	}
	return err
}

// connect waits until the database answers with the schema migrated (by the release's `api migrate`,
// never by a replica), so the process starts (and /health answers) while Postgres is still booting
// or down. Backoff doubles up to 5 s.
func (a *App) connect(ctx context.Context) {
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := a.store.SchemaReady(actx)
		cancel()
		if err == nil {
			a.dbState.Store(dbReady)
			a.log.Info("database ready; schema migrated", "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		a.log.Warn("database not reachable yet; retrying", "attempt", attempt, "retry_in_ms", delay.Milliseconds(), "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}
