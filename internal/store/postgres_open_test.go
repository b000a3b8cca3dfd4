package store

import (
	"context"
	"testing"
	"time"

	"github.com/rampart-social/rampart/internal/testdb"
)

// The smallest pool the config allows (2 connections: one writer, one
// reader) migrates a new database: the migration lock's connection is not
// the one writer the migrations need.
func TestOpenPostgresWithTheSmallestPoolMigrates(t *testing.T) {
	needPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := OpenPostgres(ctx, testdb.NewPostgres(t), PostgresOptions{MaxConnections: 2}, quietLog())
	if err != nil {
		t.Fatalf("OpenPostgres with 2 connections: %v", err)
	}
	defer s.Close()
	all, _ := migrations(dialectPostgres)
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(all) {
		t.Errorf("schema version %d (%v), want %d", v, err, len(all))
	}
}
