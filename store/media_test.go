package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"herald/store"
	"herald/store/storetest"
)

// addMedia stores a release with one medium of two files.
func addMedia(t *testing.T, db *store.DB) store.Media {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	var m store.Media
	err := db.InTx(ctx, func(tx *store.Tx) error {
		r := &store.Release{GUID: "urn:uuid:m", Slug: "m", Title: "M", Summary: "s", Body: "b", BodyFormat: "markdown",
			BodyHTML: "<p>b</p>", Language: "en", Status: "draft", PublishedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertRelease(ctx, r); err != nil {
			return err
		}
		m = store.Media{ReleaseID: r.ID, Kind: "image", Key: "abc.png", Type: "image/png", Bytes: 3, Width: 2000, Height: 10,
			SHA256: "x", DisplayKey: "abc-w1200.png", DisplayType: "image/png", DisplayBytes: 2, DisplayWidth: 1200, DisplayHeight: 6, CreatedAt: now}
		if err := tx.InsertMedia(ctx, &m); err != nil {
			return err
		}
		if err := tx.PutBlob(ctx, db, m.ID, m.Key, []byte("big")); err != nil {
			return err
		}
		return tx.PutBlob(ctx, db, m.ID, m.DisplayKey, []byte("sm"))
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMedia_BlobsByEngine(t *testing.T) {
	db := storetest.New(t)
	m := addMedia(t, db)
	ctx := context.Background()
	for key, want := range map[string]string{m.Key: "big", m.DisplayKey: "sm"} {
		if b, err := db.Blob(ctx, key); err != nil || string(b) != want {
			t.Fatalf("blob %s = %q, %v", key, b, err)
		}
	}
	rows, blobs, _ := db.CountMedia(ctx)
	if db.Engine() == "sqlite" {
		if blobs != 0 || rows != 1 {
			t.Fatalf("sqlite: %d rows, %d blobs in the table", rows, blobs)
		}
		if b, err := os.ReadFile(filepath.Join(db.MediaDir(), m.Key)); err != nil || string(b) != "big" {
			t.Fatalf("file: %q %v", b, err)
		}
	} else if blobs != 2 || db.MediaDir() != "" {
		t.Fatalf("postgres: %d blobs, dir %q", blobs, db.MediaDir())
	}
	if _, err := db.Blob(ctx, "../secret"); err == nil {
		t.Fatal("a key with a path was read")
	}
}

// TestCopy_MediaFilesBecomeBlobs: herald db copy carries SQLite's media
// files into PostgreSQL's media_blobs, and back into a SQLite database
// that reads them from its table.
func TestCopy_MediaFilesBecomeBlobs(t *testing.T) {
	ctx := context.Background()
	pgDSN := storetest.Postgres(t)
	src, err := store.Open(ctx, filepath.Join(t.TempDir(), "src.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m := addMedia(t, src)
	pg, err := store.Open(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	counts, err := src.CopyTo(ctx, pg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if counts["media"] != 1 || counts["media_blobs"] != 2 {
		t.Fatalf("counts %v", counts)
	}
	if b, err := pg.Blob(ctx, m.DisplayKey); err != nil || !bytes.Equal(b, []byte("sm")) {
		t.Fatalf("copied blob %q %v", b, err)
	}
	back, err := store.Open(ctx, filepath.Join(t.TempDir(), "back.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if _, err := pg.CopyTo(ctx, back, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := back.Blob(ctx, m.Key); err != nil || string(b) != "big" {
		t.Fatalf("blob back in SQLite %q %v", b, err)
	}
}
