package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Where the bytes of media live is the one thing about media that differs
// by engine, and this file is the one place that knows it (engine.blobFiles):
//
//   - SQLite: files in the media directory ($HERALD_DATA_DIR/media/, set by
//     SetMediaDir; by default a "media" directory next to the database
//     file), written before the transaction that adds their row commits and
//     removed after the one that deletes it. A database copied from
//     PostgreSQL carries its blobs in media_blobs; Blob reads them there
//     when no file exists.
//   - PostgreSQL: rows of media_blobs (bytea), written and removed in the
//     same transaction as the media row (by cascade), so that every
//     instance serves every file.

// SetMediaDir sets the directory of media files (SQLite). Call it before
// serving.
func (db *DB) SetMediaDir(dir string) { db.mediaDir = dir }

// MediaDir is the directory of media files ("" on PostgreSQL).
func (db *DB) MediaDir() string {
	if !db.e.blobFiles {
		return ""
	}
	if db.mediaDir == "" && db.path != "" {
		return filepath.Join(filepath.Dir(db.path), "media")
	}
	return db.mediaDir
}

// validBlobKey keeps keys to names that are safe as file names: letters,
// digits, '-' and one '.' (keys are made by package media).
func validBlobKey(key string) bool {
	if key == "" || len(key) > 80 || strings.Count(key, ".") > 1 || key[0] == '.' {
		return false
	}
	return strings.IndexFunc(key, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.')
	}) < 0
}

// PutBlob stores the bytes of one file of medium mediaID. On SQLite the file
// is written at once (atomically, by rename): if the transaction then
// fails, the caller removes it with DiscardBlobFiles.
func (tx *Tx) PutBlob(ctx context.Context, db *DB, mediaID int64, key string, data []byte) error {
	if !validBlobKey(key) {
		return fmt.Errorf("store: media key %q is not valid", key)
	}
	if !db.e.blobFiles {
		if _, err := tx.tx.ExecContext(ctx, "INSERT INTO media_blobs (key, media_id, data) VALUES (?, ?, ?)", key, mediaID, data); err != nil {
			return fmt.Errorf("store: media blob %s: %w", key, err)
		}
		return nil
	}
	return writeBlobFile(db.MediaDir(), key, data)
}

func writeBlobFile(dir, key string, data []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("store: media directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return fmt.Errorf("store: media file %s: %w", key, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, key))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("store: media file %s: %w", key, err)
	}
	return nil
}

// Blob returns the bytes of the file key; ErrNotFound when there is none.
func (db *DB) Blob(ctx context.Context, key string) ([]byte, error) {
	if !validBlobKey(key) {
		return nil, fmt.Errorf("store: media file %q: %w", key, ErrNotFound)
	}
	if db.e.blobFiles {
		b, err := os.ReadFile(filepath.Join(db.MediaDir(), key))
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store: media file %s: %w", key, err)
		}
	}
	var b []byte
	err := db.read.QueryRowContext(ctx, "SELECT data FROM media_blobs WHERE key = ?", key).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: media file %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: media file %s: %w", key, err)
	}
	return b, nil
}

// DiscardBlobFiles removes the files of keys, after the transaction that
// deleted their rows committed, or after one that would have added them
// failed. On PostgreSQL the rows went with the transaction: nothing to do.
// It returns the first error; the others are tried anyway.
func (db *DB) DiscardBlobFiles(keys []string) error {
	if !db.e.blobFiles {
		return nil
	}
	var first error
	for _, k := range keys {
		if !validBlobKey(k) {
			continue
		}
		if err := os.Remove(filepath.Join(db.MediaDir(), k)); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = fmt.Errorf("store: remove media file %s: %w", k, err)
		}
	}
	return first
}

// copyBlobFiles carries media files into a copy's target: into media_blobs
// when the target keeps blobs in the database (SQLite to PostgreSQL), or
// into the target's media directory (SQLite to SQLite). It returns how
// many files it copied; a file that is missing is an error (the copy would
// lose it).
func (db *DB) copyBlobFiles(ctx context.Context, dst *DB, tx *Tx) (int64, error) {
	if !db.e.blobFiles {
		return 0, nil // the blobs were rows of media_blobs, copied as such
	}
	rows, err := db.read.QueryContext(ctx, "SELECT id, key, display_key FROM media ORDER BY id")
	if err != nil {
		return 0, fmt.Errorf("store: copy media files: %w", err)
	}
	type file struct {
		id  int64
		key string
	}
	var files []file
	for rows.Next() {
		var id int64
		var k, d string
		if err := rows.Scan(&id, &k, &d); err != nil {
			rows.Close()
			return 0, err
		}
		for _, key := range mediaFileKeys(k, d) {
			files = append(files, file{id, key})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var n int64
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(db.MediaDir(), f.key))
		if errors.Is(err, fs.ErrNotExist) {
			// A database copied from PostgreSQL keeps them as rows of
			// media_blobs, which the copy carried as such.
			if _, err := db.Blob(ctx, f.key); err != nil {
				return n, fmt.Errorf("media file %s is missing from %s: %w", f.key, db.MediaDir(), err)
			}
			continue
		} else if err != nil {
			return n, err
		}
		if dst.e.blobFiles && filepath.Clean(dst.MediaDir()) == filepath.Clean(db.MediaDir()) {
			n++
			continue // the same directory: the file is already there
		}
		if err := tx.PutBlob(ctx, dst, f.id, f.key, b); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
