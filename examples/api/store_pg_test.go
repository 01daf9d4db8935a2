//go:build pgintegration

// Runs the Postgres store against a real server:
//
//	PG_TEST_URL=postgres://user:pw@127.0.0.1:5432/db go test -tags pgintegration ./...
package main

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"
)

func TestPGStoreAgainstRealPostgres(t *testing.T) {
	url := os.Getenv("PG_TEST_URL")
	if url == "" {
		t.Fatal("PG_TEST_URL is required with -tags pgintegration")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := NewPGStore(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Replicas migrate at once on a shared database: the advisory lock must serialize them.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = s.Migrate(ctx) }(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	it, err := s.Create(ctx, "real")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, it.ID)
	if err != nil || got.Name != "real" || got.CreatedAt.IsZero() {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.Get(ctx, 1<<62); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing id: %v, want ErrNotFound", err)
	}
	list, err := s.List(ctx, 500)
	if err != nil || len(list) == 0 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if _, err := s.Create(ctx, ""); err == nil {
		t.Fatal("the table's CHECK must refuse an empty name")
	}
}
