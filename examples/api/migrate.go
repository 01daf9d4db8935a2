package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// runMigrate is `api migrate`: the release step Slipway runs once per release, before the new
// replicas start (ApiService `migrate`). It applies the schema, records the run in
// migration_runs (when and where it ran, so an operator can see each release migrated once) and
// exits 0; any failure exits 1 with the reason on stderr. It waits for the database while it boots,
// bounded by MIGRATE_WAIT_SECONDS (default 60), since the caller's own timeout ends a hang anyway.
func runMigrate(cfg Config, logger *slog.Logger) int {
	if cfg.DatabaseURL == "" {
		logger.Error("migrate: DATABASE_URL is not set")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), migrateWait())
	defer cancel()
	s, err := NewPGStore(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		logger.Error("migrate: " + err.Error())
		return 1
	}
	defer s.Close()
	for attempt := 1; ; attempt++ {
		if err = s.Ping(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			logger.Error("migrate: the database did not answer", "attempts", attempt, "error", err.Error())
			return 1
		}
		time.Sleep(time.Second)
	}
	host, _ := os.Hostname()
	if err := s.MigrateAndRecord(ctx, host); err != nil {
		logger.Error("migrate: failed", "error", err.Error())
		return 1
	}
	logger.Info("migrate: schema applied", "host", host)
	return 0
}

func migrateWait() time.Duration {
	var n int
	if _, err := fmt.Sscanf(os.Getenv("MIGRATE_WAIT_SECONDS"), "%d", &n); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 60 * time.Second
}

// MigrateAndRecord applies the schema, then records the run.
func (s *PGStore) MigrateAndRecord(ctx context.Context, host string) error {
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS migration_runs (
		id     bigserial   PRIMARY KEY,
		ran_at timestamptz NOT NULL DEFAULT clock_timestamp(),
		host   text        NOT NULL
	)`)
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO migration_runs (host) VALUES ($1)`, host)
	}
	return err
}

// errNotMigrated says the schema is not there yet: the release's migration has not run.
var errNotMigrated = errors.New("the schema is not migrated yet (run `api migrate` first; Slipway's ApiService migrate does it once per release)")

// SchemaReady answers nil once the table this service reads exists. Replicas never migrate
// themselves: they wait for the release's migration.
func (s *PGStore) SchemaReady(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `SELECT 1 FROM items LIMIT 0`)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return errNotMigrated
	}
	return err
}

// SchemaReady of the in-memory store: migrated whenever it is up.
func (m *MemStore) SchemaReady(context.Context) error { return m.err() }
