package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Item is the one resource this example stores.
type Item struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

var ErrNotFound = errors.New("not found")

// Store is what the handlers need; the Postgres store is the real one, the memory store serves the
// handler tests.
type Store interface {
	Migrate(ctx context.Context) error
	SchemaReady(ctx context.Context) error
	Ping(ctx context.Context) error
	Create(ctx context.Context, name string) (Item, error)
	List(ctx context.Context, limit int) ([]Item, error)
	Get(ctx context.Context, id int64) (Item, error)
	Close()
}

// PGStore keeps a pgx pool. The pool connects lazily, so building one never fails because the
// database is down; Migrate is retried by the caller until the database comes.
type PGStore struct{ pool *pgxpool.Pool }

func NewPGStore(ctx context.Context, url string, maxConns int32) (*PGStore, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL; the caller reports only that it is invalid.
		return nil, errors.New("DATABASE_URL is not a valid Postgres URL or DSN")
	}
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	// Behind a PgBouncer pool in transaction mode (ManagedDatabase's do.pool) a connection can change
	// between two statements, so pgx's cached named prepared statements would fail there. Exec mode
	// uses unnamed statements and works through any pooler; a URL that chooses a mode still wins.
	if !strings.Contains(url, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &PGStore{pool: pool}, nil
}

// Several replicas start together: the advisory lock makes one of them create the table while
// the others wait, instead of racing on the catalog (CREATE TABLE IF NOT EXISTS is not atomic).
const migrationLockID = 7_412_001

func (s *PGStore) Migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS items (
			id         bigserial   PRIMARY KEY,
			name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
			created_at timestamptz NOT NULL DEFAULT now()
		)`)
		return err
	})
}

func (s *PGStore) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

func (s *PGStore) Create(ctx context.Context, name string) (Item, error) {
	var it Item
	err := s.pool.QueryRow(ctx, `INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at`, name).
		Scan(&it.ID, &it.Name, &it.CreatedAt)
	return it, err
}

func (s *PGStore) List(ctx context.Context, limit int) ([]Item, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_at FROM items ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) {
		var it Item
		err := r.Scan(&it.ID, &it.Name, &it.CreatedAt)
		return it, err
	})
}

func (s *PGStore) Get(ctx context.Context, id int64) (Item, error) {
	var it Item
	err := s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM items WHERE id = $1`, id).
		Scan(&it.ID, &it.Name, &it.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return it, ErrNotFound
	}
	return it, err
}

func (s *PGStore) Close() { s.pool.Close() }

// MemStore is an in-process Store for tests. Down makes Ping and every query fail, like an
// unreachable database.
type MemStore struct {
	mu    sync.Mutex
	items []Item
	Down  bool
}

var errDown = errors.New("database unreachable")

func (m *MemStore) Migrate(context.Context) error { return m.err() }
func (m *MemStore) Ping(context.Context) error    { return m.err() }

func (m *MemStore) err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Down {
		return errDown
	}
	return nil
}

func (m *MemStore) SetDown(down bool) {
	m.mu.Lock()
	m.Down = down
	m.mu.Unlock()
}

func (m *MemStore) Create(_ context.Context, name string) (Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Down {
		return Item{}, errDown
	}
	it := Item{ID: int64(len(m.items) + 1), Name: name, CreatedAt: time.Now().UTC()}
	m.items = append(m.items, it)
	return it, nil
}

func (m *MemStore) List(_ context.Context, limit int) ([]Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Down {
		return nil, errDown
	}
	n := min(limit, len(m.items))
	return append([]Item{}, m.items[:n]...), nil
}

func (m *MemStore) Get(_ context.Context, id int64) (Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Down {
		return Item{}, errDown
	}
	if id < 1 || id > int64(len(m.items)) {
		return Item{}, ErrNotFound
	}
	return m.items[id-1], nil
}

func (m *MemStore) Close() {}
